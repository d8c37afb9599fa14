"""``python -m examples.fastapi_shop [--host 127.0.0.1] [--port 8002]``: serve the shop."""

from __future__ import annotations

import argparse

import uvicorn

from examples.fastapi_shop.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.fastapi_shop", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    print(f"fastapi shop on http://{args.host}:{args.port}/")
    # uvicorn's graceful stop runs the lifespan shutdown, which delivers queued events.
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
