"""The example shop on FastAPI (see examples/SHOP.md and README.md here).

python -m examples.fastapi_shop --port 8002
uvicorn --factory examples.fastapi_shop:create_app --port 8002
"""

from examples.fastapi_shop.app import create_app

__all__ = ["create_app"]
