"""``python -m mixtrack.demo.shop --port 8000``: create the user table, then serve.

Serves with Django's threaded development server, without the autoreloader, on
``127.0.0.1`` by default. SIGTERM stops it cleanly: queued events are delivered first.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType


def _stop(signum: int, frame: FrameType | None) -> None:
    # SystemExit runs the atexit hooks, where mixtrack delivers what is still queued.
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mixtrack.demo.shop", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mixtrack.demo.shop.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    signal.signal(signal.SIGTERM, _stop)
    call_command("runserver", f"{args.host}:{args.port}", use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main()
