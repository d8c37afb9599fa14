"""``mixtrack plan``: show, codegen, lint, infer, push and pull a tracking plan.

    mixtrack plan show PATH [EVENT]
    mixtrack plan codegen PATH -o MODULE.py [--check]
    mixtrack plan lint PATH [--collector URL] [--convention snake_case|title|camel|sentence]
    mixtrack plan infer (--collector URL | --db FILE | NDJSON) -o PATH
    mixtrack plan push|pull PATH --project-id N [--service-account USER:SECRET] [--dry-run]

Exit codes: 0 when all is well, 1 for findings (lint), a stale module (``codegen --check``)
or changes (``push --dry-run``), 2 for a plan, file or connection problem.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["register"]

_ERRORS = (OSError, ValueError, ConnectionError)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="a tracking plan in code: codegen, lint, infer, Lexicon push and pull",
        description="A tracking plan is a folder of event/<name>.json and profile/$user.json "
        "JSON Schema files, or one Lexicon bulk JSON file.",
    )
    commands = parser.add_subparsers(dest="plan_command", metavar="ACTION")
    commands.required = True

    show = commands.add_parser("show", help="explain the plan (or one event of it)")
    show.add_argument("path", metavar="PATH")
    show.add_argument("event", nargs="?", help="only this event")
    show.set_defaults(run=_guarded(_show))

    codegen = commands.add_parser("codegen", help="write a typed Python module for the plan")
    codegen.add_argument("path", metavar="PATH")
    codegen.add_argument("-o", "--output", required=True, metavar="MODULE.py")
    codegen.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if MODULE.py is stale"
    )
    codegen.set_defaults(run=_guarded(_codegen))

    lint = commands.add_parser("lint", help="check names; exit 1 on findings")
    lint.add_argument("path", metavar="PATH")
    lint.add_argument("--collector", metavar="URL", help="also lint what a collector received")
    lint.add_argument(
        "--convention",
        choices=["snake_case", "title", "camel", "sentence"],
        default="snake_case",
        help="how names are spelt (snake_case)",
    )
    lint.add_argument(
        "--property-convention",
        choices=["snake_case", "title", "camel", "sentence"],
        help="how property names are spelt (default: --convention)",
    )
    lint.add_argument("--json", action="store_true", help="findings as JSON")
    lint.set_defaults(run=_guarded(_lint))

    infer = commands.add_parser("infer", help="write a first plan from the events seen")
    source = infer.add_mutually_exclusive_group(required=True)
    source.add_argument("--collector", metavar="URL", help="a running collector")
    source.add_argument("--db", metavar="FILE", help="a collector's SQLite file")
    source.add_argument("ndjson", nargs="?", metavar="NDJSON", help="an NDJSON event export")
    infer.add_argument("-o", "--output", required=True, metavar="PATH")
    infer.add_argument(
        "--required-share",
        type=float,
        default=1.0,
        help="a property is required when present in this share of an event's occurrences (1.0)",
    )
    infer.add_argument(
        "--enum-limit", type=int, default=10, help="largest set of values made an enum (10)"
    )
    infer.set_defaults(run=_guarded(_infer))

    for name, run, what in (
        ("push", _push, "upload the plan to Lexicon (changed schemas only)"),
        ("pull", _pull, "write the project's Lexicon schemas to PATH"),
    ):
        sync = commands.add_parser(name, help=what)
        sync.add_argument("path", metavar="PATH")
        sync.add_argument("--project-id", type=int, required=True, metavar="N")
        sync.add_argument(
            "--service-account",
            metavar="USER:SECRET",
            help="default: $MIXTRACK_SERVICE_ACCOUNT",
        )
        sync.add_argument("--region", choices=["us", "eu", "in"], default="us")
        sync.add_argument("--api-host", metavar="URL", help="another Lexicon (tests, proxies)")
        sync.add_argument("--dry-run", action="store_true", help="show the diff; change nothing")
        sync.set_defaults(run=_guarded(run))


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except _ERRORS as exc:
            print(f"mixtrack plan {args.plan_command}: {exc}", file=sys.stderr)
            return 2

    return guarded


def _show(args: argparse.Namespace) -> int:
    from mixtrack.plan import Plan

    print(Plan.load(args.path).explain(args.event))
    return 0


def _codegen(args: argparse.Namespace) -> int:
    from mixtrack.plan import Plan
    from mixtrack.plan._codegen import generate

    # the header names no path: --check must pass from any working directory
    text = generate(Plan.load(args.path))
    target = Path(args.output)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            print(
                f"{target} is stale: run `mixtrack plan codegen {args.path} -o {target}`",
                file=sys.stderr,
            )
            return 1
        print(f"{target} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    from mixtrack.plan import Plan
    from mixtrack.plan._lint import lint

    sent = _events(collector=args.collector) if args.collector else []
    findings = lint(
        Plan.load(args.path),
        convention=args.convention,
        property_convention=args.property_convention,
        sent=sent,
    )
    if args.json:
        print(json.dumps([f.as_json() for f in findings], indent=2))
    else:
        for finding in findings:
            print(f"{finding.code}: {finding.message}")
        print(f"{len(findings)} findings")
    return 1 if findings else 0


def _infer(args: argparse.Namespace) -> int:
    from mixtrack.plan._infer import infer

    events = _events(collector=args.collector, db=args.db, ndjson=args.ndjson)
    plan = infer(events, required_share=args.required_share, enum_limit=args.enum_limit)
    plan.write(args.output)
    print(f"wrote {len(plan.events)} event schemas from {len(events)} events to {args.output}")
    return 0


def _events(
    *, collector: str | None = None, db: str | None = None, ndjson: str | None = None
) -> list[dict[str, Any]]:
    """Stored events from a collector, its database file, or an NDJSON export."""
    if ndjson is not None:
        return _read_ndjson(Path(ndjson))
    # The audit's readers: the one place that knows the collector's API and file.
    from mixtrack.audit._source import from_collector, from_db

    events, _ = from_collector(collector) if collector else from_db(str(db))
    return events


def _read_ndjson(file: Path) -> list[dict[str, Any]]:
    events = []
    with file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}:{number} is not JSON: {exc}") from None
            if isinstance(item, dict) and isinstance(item.get("event"), str):
                events.append(item)
    return events


def _lexicon(args: argparse.Namespace) -> Any:
    from mixtrack.plan._lexicon import Lexicon

    account = args.service_account or os.environ.get("MIXTRACK_SERVICE_ACCOUNT", "")
    if not account:
        raise ValueError(
            "no service account: set MIXTRACK_SERVICE_ACCOUNT=user:secret or pass --service-account"
        )
    return Lexicon(args.project_id, account, region=args.region, api_host=args.api_host)


def _push(args: argparse.Namespace) -> int:
    from mixtrack.plan import Plan
    from mixtrack.plan._lexicon import diff

    plan = Plan.load(args.path)
    with _lexicon(args) as lexicon:
        changes = diff(plan, lexicon.stored()) if args.dry_run else lexicon.push(plan)
    for change in changes:
        if change.kind != "keep":
            print(change.diff, end="")
    counts = {k: sum(c.kind == k for c in changes) for k in ("add", "change", "keep")}
    verb = "would add" if args.dry_run else "added"
    print(f"{verb} {counts['add']}, changed {counts['change']}, kept {counts['keep']} schemas")
    return 1 if args.dry_run and (counts["add"] or counts["change"]) else 0


def _pull(args: argparse.Namespace) -> int:
    import difflib
    import tempfile

    from mixtrack.plan import Plan

    with _lexicon(args) as lexicon:
        pulled = lexicon.pull()
    if args.dry_run:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / Path(args.path).name
            pulled.write(target)
            old = _texts(Path(args.path))
            new = _texts(target)
        for name in sorted(set(old) | set(new)):
            lines = difflib.unified_diff(
                old.get(name, []), new.get(name, []), f"local:{name}", f"lexicon:{name}"
            )
            print("".join(lines), end="")
        return 1 if old != new else 0
    Plan.write(pulled, args.path)
    print(f"wrote {len(pulled.entries)} schemas to {args.path}")
    return 0


def _texts(path: Path) -> dict[str, list[str]]:
    if path.is_file():
        return {path.name: path.read_text(encoding="utf-8").splitlines(keepends=True)}
    if not path.is_dir():
        return {}
    return {
        file.relative_to(path).as_posix(): file.read_text(encoding="utf-8").splitlines(
            keepends=True
        )
        for file in sorted(path.rglob("*.json"))
    }
