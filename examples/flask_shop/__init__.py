"""The example shop on Flask (see examples/SHOP.md and README.md here).

python -m examples.flask_shop --port 8001
gunicorn -w 3 --preload -b 127.0.0.1:8001 'examples.flask_shop:create_app()'
"""

from .app import CATALOGUE, EXPERIMENTS, create_app

__all__ = ["CATALOGUE", "EXPERIMENTS", "create_app"]
