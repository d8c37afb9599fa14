"""``mixtrack audit``: audit an experiment launch and read it out; exit non-zero on findings.

    mixtrack audit --collector http://127.0.0.1:8765 --experiment pricing_page_layout \\
        --metric "Order completed" --value-property revenue --weights grid=50,list=50 \\
        --fail-on errors

Exit codes: 0 when nothing at or above ``--fail-on`` was found, 1 when something was, 2 on a
usage or connection problem, including an ``--experiment`` or ``--metric`` that no stored
event has (the closest names are suggested).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="check an experiment launch and read it out",
        description="Checks the $experiment_started exposures a collector received against "
        "Mixpanel's launch checklist (once per user, both names, consistent names, no variant "
        "flips, identified users, activity after exposure, planned split) and, with --metric, "
        "compares the variants. Exits 1 on findings at or above --fail-on, so CI can gate a "
        "release.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--collector",
        metavar="URL",
        help="a running collector (default: http://127.0.0.1:8765 unless --db is given)",
    )
    source.add_argument("--db", metavar="PATH", help="a collector's SQLite file")
    parser.add_argument("--experiment", help="audit only this experiment")
    parser.add_argument("--metric", help="read out on this event, e.g. 'Order completed'")
    parser.add_argument(
        "--value-property", metavar="NAME", help="numeric property of the metric, e.g. revenue"
    )
    parser.add_argument("--control", help="the control variant (default: 'control' or first)")
    plan = parser.add_mutually_exclusive_group()
    plan.add_argument(
        "--weights",
        metavar="V=W,...",
        help="planned split, e.g. control=50,treatment=50 (default: even)",
    )
    plan.add_argument("--flags", metavar="FILE", help="read planned splits from a flags file")
    parser.add_argument(
        "--srm-threshold",
        type=float,
        default=0.001,
        help="sample-ratio mismatch when p is below this (0.001)",
    )
    parser.add_argument(
        "--fail-on",
        choices=["warnings", "errors"],
        default="errors",
        help="exit 1 on findings at or above this level (errors)",
    )
    parser.add_argument(
        "--identity",
        choices=["simplified", "original"],
        help="merge ids as this Mixpanel ID-merge system does (default: the collector's "
        "--identity; simplified for --db)",
    )
    parser.add_argument(
        "--plan",
        dest="tracking_plan",
        metavar="PATH",
        help="a tracking plan: report events and properties off it (off_plan_event, "
        "off_plan_property), and unplanned experiment and variant names",
    )
    parser.add_argument(
        "--strict-plan",
        action="store_true",
        help="make the tracking-plan findings errors (default: warnings)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from mixtrack.audit._names import unknown_names
    from mixtrack.audit._run import AuditOptions, parse_plan, run_audit
    from mixtrack.audit._source import from_collector, from_db
    from mixtrack.errors import ConfigError

    try:
        options = AuditOptions(
            experiment=args.experiment,
            metric=args.metric,
            value_property=args.value_property,
            control=args.control,
            weights=parse_plan(args.weights, args.flags),
            srm_threshold=args.srm_threshold,
            tracking_plan=_tracking_plan(args.tracking_plan),
            strict_plan=args.strict_plan,
        )
        if args.db:
            events, identity = from_db(args.db, args.identity or "simplified")
        else:
            url = args.collector or "http://127.0.0.1:8765"
            events, identity = from_collector(url, identity=args.identity)
    except (ValueError, ConfigError, OSError) as exc:
        print(f"mixtrack audit: {exc}", file=sys.stderr)
        return 2
    problems = unknown_names(events, experiment=args.experiment, metric=args.metric)
    for problem in problems:
        print(f"mixtrack audit: {problem}", file=sys.stderr)
    if problems:
        return 2
    result = run_audit(events, options, identity)
    if args.json:
        print(json.dumps(result.as_json(), indent=2, default=str))
    else:
        print(result.text())
    failed = result.report.fails(args.fail_on)
    if not args.json:
        verdict = f"FAIL (findings at or above {args.fail_on})" if failed else "OK"
        print(f"\nmixtrack audit: {verdict}")
    return 1 if failed else 0


def _tracking_plan(path: str | None) -> Any:
    if path is None:
        return None
    from mixtrack.plan import Plan

    return Plan.load(path)
