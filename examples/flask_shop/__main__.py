"""``python -m examples.flask_shop [--host 127.0.0.1] [--port 8001]``: serve the shop."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from .app import create_app


def _stop(signum: int, frame: FrameType | None) -> None:
    # A normal exit, so mixtrack delivers what is still queued (atexit) before leaving.
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    app = create_app()
    print(f"flask shop on http://{args.host}:{args.port}/ -> {app.config['MIXTRACK_API_HOST']}")
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
