"""The ``mixtrack`` command line: ``mixtrack collector | demo | import | audit | plan``.

Each subcommand is a registrar in :data:`SUBCOMMANDS`: a function that adds its parser to
the ``subparsers`` it is given and sets ``run`` (``args -> exit code``) as the parser's
default. To add a subcommand, write such a function next to the code it runs and list it here
(or call :func:`register` before :func:`main`); imports of heavy modules belong inside ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

Subparsers = Any  # argparse's _SubParsersAction is private
Registrar = Callable[[Subparsers], None]


def _collector(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "collector",
        help="run a local Mixpanel-compatible collector with a live view",
        description="Accepts /track, /engage, /groups and /import as Mixpanel does, stores "
        "them in SQLite and serves a query API under /_mixtrack/ and a live view at /.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port, 0 for any free one (8765)")
    parser.add_argument(
        "--db",
        default="mixtrack-collector.sqlite3",
        help="SQLite file, or :memory: (mixtrack-collector.sqlite3 in the working directory)",
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="T",
        help="accept only this project token (repeatable; default: accept any and record it)",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="S",
        help="require /import credentials: a project secret, or user:password of a service "
        "account (repeatable; default: /import is open)",
    )
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a generated local certificate"
    )
    parser.add_argument("--tls-dir", help="where to write ca.pem for --tls (default: a temp dir)")
    parser.add_argument(
        "--count-only",
        action="store_true",
        help="store nothing and validate nothing: count events and distinct $insert_ids",
    )
    parser.add_argument(
        "--identity",
        choices=["simplified", "original"],
        default="simplified",
        help="build identity clusters as this Mixpanel ID-merge system does: simplified "
        "($device_id + $user_id; the default of new projects) or original ($identify, "
        "$create_alias, $merge)",
    )
    parser.add_argument(
        "--project-id",
        metavar="ID",
        help="the project_id a service account must name on /import (default: any)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="close a connection idle (or sending a request) this long (30)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=128,
        metavar="N",
        help="connections served at once; more are answered 503 with Retry-After (128)",
    )
    parser.add_argument(
        "--max-buffered-mb",
        type=int,
        default=256,
        metavar="MB",
        help="request bodies held in memory at once, all connections together (256)",
    )
    parser.add_argument(
        "--plan",
        metavar="PATH",
        help="a tracking plan (folder or Lexicon bulk JSON): GET /_mixtrack/events?meta=1 "
        "marks each event on or off plan, ?off_plan=1 lists those that break it",
    )
    parser.set_defaults(run=_run_collector)


def _run_collector(args: argparse.Namespace) -> int:
    from mixtrack.collector._limits import ServerLimits
    from mixtrack.collector._run import serve

    return serve(
        host=args.host,
        port=args.port,
        db=args.db,
        tokens=args.token,
        secrets=args.secret,
        tls=args.tls,
        tls_dir=args.tls_dir,
        count_only=args.count_only,
        identity=args.identity,
        project_id=args.project_id,
        limits=ServerLimits(
            idle_timeout=args.idle_timeout,
            max_connections=args.max_connections,
            max_buffered_bytes=args.max_buffered_mb * 1024 * 1024,
        ),
        plan=args.plan,
    )


#: Subcommand name -> registrar. ``demo``, ``import`` and ``audit`` are added the same way.
def _import(subparsers: Subparsers) -> None:
    from mixtrack.importer._cli import register as add_import

    add_import(subparsers)


def _demo(subparsers: Subparsers) -> None:
    from mixtrack.demo._cli import register as add_demo

    add_demo(subparsers)


def _audit(subparsers: Subparsers) -> None:
    from mixtrack.audit._cli import register as add_audit

    add_audit(subparsers)


def _plan(subparsers: Subparsers) -> None:
    from mixtrack.plan._cli import register as add_plan

    add_plan(subparsers)


SUBCOMMANDS: dict[str, Registrar] = {
    "collector": _collector,
    "import": _import,
    "demo": _demo,
    "audit": _audit,
    "plan": _plan,
}


def register(name: str, registrar: Registrar) -> None:
    """Add (or replace) a subcommand."""
    SUBCOMMANDS[name] = registrar


def build_parser() -> argparse.ArgumentParser:
    from mixtrack._version import __version__

    parser = argparse.ArgumentParser(
        prog="mixtrack", description="Server-side product analytics in Mixpanel's wire format."
    )
    parser.add_argument("--version", action="version", version=f"mixtrack {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for registrar in SUBCOMMANDS.values():
        registrar(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mixtrack`` console script."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
