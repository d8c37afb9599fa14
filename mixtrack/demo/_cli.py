"""The ``mixtrack demo`` subcommand."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the collector and an example shop, drive simulated visitors, print the audit",
        description="Starts the local collector (SQLite), runs the example shop against it, "
        "drives a few hundred simulated visitors through it (browsing, the pricing_page_layout "
        "experiment, sign-ups, orders), then prints the live view URL, the exposure audit and "
        "the experiment readout. Runs in any folder; leaves only the collector's SQLite file.",
    )
    parser.add_argument(
        "--shop",
        choices=["django", "flask"],
        default="django",
        help="which example shop (django; flask needs pip install 'mixtrack[demo]')",
    )
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--port", type=int, default=8765, help="collector port (8765)")
    parser.add_argument("--db", default="mixtrack-demo.sqlite3", help="collector SQLite file")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="exit after printing instead of keeping the collector up",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mixtrack.demo import run_demo
    from mixtrack.errors import MixtrackError

    try:
        return run_demo(
            shop=args.shop,
            visitors=args.visitors,
            port=args.port,
            db=args.db,
            wait=not args.no_wait,
        )
    except (MixtrackError, RuntimeError, OSError) as exc:
        print(f"mixtrack demo: {exc}", file=sys.stderr)
        return 2
