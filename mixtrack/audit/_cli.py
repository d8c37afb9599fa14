"""``mixtrack audit``: audit an experiment launch and read it out; exit non-zero on findings.

    mixtrack audit --collector http://127.0.0.1:8765 --experiment pricing_page_layout \\
        --metric "Order completed" --metric "Order completed:sum(revenue):winsor=99" \\
        --guardrail "Refund requested:lower" --correction bh --weights grid=50,list=50 \\
        --html report.html

Exit codes: 0 when nothing at or above ``--fail-on`` was found, 1 when something was (a
guardrail significantly worse is an error), 2 on a usage or connection problem, including an
``--experiment``, ``--metric``, ``--guardrail``, ``--secondary`` or ``--control`` that no
stored event has (the closest names are suggested), or a readout that cannot be made.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]

_METRIC_FORM = "[ROLE:]EVENT[:conversion|:count|:sum(PROP)][:higher|:lower][:winsor=PCT]"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="check an experiment launch and read it out",
        description="Checks the $experiment_started exposures a collector received against "
        "Mixpanel's launch checklist (once per user, both names, consistent names, no variant "
        "flips, identified users, activity after exposure, planned split) and, with --metric, "
        "compares the variants on each metric. Exits 1 on findings at or above --fail-on "
        "(a guardrail significantly worse is an error), so CI can gate a release.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--collector",
        metavar="URL",
        help="a running collector (default: http://127.0.0.1:8765 unless --db is given)",
    )
    source.add_argument("--db", metavar="PATH", help="a collector's SQLite file")
    parser.add_argument("--experiment", help="audit only this experiment")
    metrics = parser.add_argument_group("metrics", f"each metric is {_METRIC_FORM}")
    for option, role in (("--metric", "primary"), ("--guardrail", "guardrail"),
                         ("--secondary", "secondary")):  # fmt: skip
        metrics.add_argument(
            option, action="append", default=[], metavar="METRIC",
            help=f"a {role} metric (repeatable), e.g. 'Order completed' or "
            "'Order completed:sum(revenue)'" + ("; a guardrail significantly worse fails the gate"
                                                if role == "guardrail" else ""),
        )  # fmt: skip
    metrics.add_argument(
        "--value-property", metavar="NAME", help="also read the sum of this property of the "
        "first --metric, e.g. revenue (same as --secondary 'EVENT:sum(NAME)')",
    )  # fmt: skip
    metrics.add_argument(
        "--correction", choices=["none", "bonferroni", "bh"], default="none",
        help="correct p-values and intervals across metrics and variants (none)",
    )  # fmt: skip
    metrics.add_argument(
        "--sequential-tau", type=float, default=0.1, metavar="SHARE",
        help="mixing scale of the always-valid test, as a share of the baseline mean (0.1)",
    )  # fmt: skip
    metrics.add_argument(
        "--sequential-min-users", type=int, default=100, metavar="N",
        help="the always-valid test starts once each arm has N users (100)",
    )  # fmt: skip
    metrics.add_argument(
        "--window", type=float, default=90.0, metavar="DAYS",
        help="count behaviour this many days after exposure (90)",
    )  # fmt: skip
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
    parser.add_argument(
        "--html", metavar="PATH", help="also write the report as one self-contained HTML page"
    )
    parser.set_defaults(run=_run)


def _options(args: argparse.Namespace) -> Any:
    from mixtrack.audit._metrics import Metric, parse_metric
    from mixtrack.audit._run import AuditOptions, parse_plan

    metrics = [
        parse_metric(text, role)
        for option, role in (
            ("metric", "primary"),
            ("guardrail", "guardrail"),
            ("secondary", "secondary"),
        )
        for text in getattr(args, option)
    ]
    if args.value_property:
        if not args.metric:
            raise ValueError("--value-property needs a --metric to read the property of")
        metrics.append(Metric(metrics[0].event, "sum", args.value_property, "secondary"))
    if not args.window > 0:
        raise ValueError(f"--window takes a positive number of days, got {args.window!r}")
    return AuditOptions(
        experiment=args.experiment,
        control=args.control,
        weights=parse_plan(args.weights, args.flags),
        srm_threshold=args.srm_threshold,
        metrics=tuple(metrics),
        correction=args.correction,
        sequential_tau=args.sequential_tau,
        sequential_min_users=args.sequential_min_users,
        window=args.window * 86400.0,
        tracking_plan=_tracking_plan(args.tracking_plan),
        strict_plan=args.strict_plan,
    )


def _run(args: argparse.Namespace) -> int:
    from mixtrack.audit._names import unknown_names
    from mixtrack.audit._run import run_audit
    from mixtrack.audit._sequential import MixtureTest
    from mixtrack.audit._source import from_collector, from_db
    from mixtrack.errors import ConfigError

    try:
        options = _options(args)
        MixtureTest(options.sequential_tau, options.sequential_min_users)  # checks both
        if args.db:
            events, identity = from_db(args.db, args.identity or "simplified")
        else:
            url = args.collector or "http://127.0.0.1:8765"
            events, identity = from_collector(url, identity=args.identity)
    except (ValueError, ConfigError, OSError) as exc:
        print(f"mixtrack audit: {exc}", file=sys.stderr)
        return 2
    problems = unknown_names(
        events, experiment=args.experiment, metrics=options.asked(), control=args.control
    )
    for problem in problems:
        print(f"mixtrack audit: {problem}", file=sys.stderr)
    if problems:
        return 2
    result = run_audit(events, options, identity)
    if args.html:
        try:
            Path(args.html).write_text(result.html(), encoding="utf-8")
        except OSError as exc:
            print(f"mixtrack audit: cannot write --html {args.html}: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result.as_json(), indent=2, default=str))
    else:
        print(result.text())
    if result.readout_error and options.metrics:
        print(f"mixtrack audit: no readout: {result.readout_error}", file=sys.stderr)
        return 2
    failed = result.fails(args.fail_on)
    if not args.json:
        verdict = f"FAIL (findings at or above {args.fail_on})" if failed else "OK"
        print(f"\nmixtrack audit: {verdict}")
    return 1 if failed else 0


def _tracking_plan(path: str | None) -> Any:
    if path is None:
        return None
    from mixtrack.plan import Plan

    return Plan.load(path)
