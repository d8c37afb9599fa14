"""``GET /_mixtrack/audit``: the audit (and readout) of what a collector has stored.

Parameters: ``experiment``, ``metric``, ``value_property``, ``control``, ``weights``
(``control=50,treatment=50`` or a JSON object, per experiment or for ``experiment``),
``srm_threshold``; ``guardrail`` and ``secondary`` (comma-separated metrics), ``correction``,
``sequential_tau``, ``sequential_min_users``, ``window`` (days) as ``mixtrack audit`` takes
them; ``format=html`` adds ``html``, the readout's charts as an HTML fragment. The answer
is :meth:`AuditResult.as_json`, plus ``text``: the table
``mixtrack audit`` prints, and ``unknown``: a message for each asked-for experiment or
metric that no stored event has, with the closest names (``mixtrack audit`` exits 2 on
those). The collector serves it from its own route table and hands it
the stored events; nothing here knows the collector.

>>> status, answer = audit_answer([], lambda distinct_id: distinct_id, {"metric": "Paid"})
>>> status, answer["unknown"]
(200, ["no stored event is named 'Paid' (--metric); no events are stored yet"])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mixtrack.audit._corrections import adjust
from mixtrack.audit._html import render_panel
from mixtrack.audit._metrics import parse_metric
from mixtrack.audit._names import unknown_names
from mixtrack.audit._run import AuditOptions, parse_plan, run_audit
from mixtrack.audit._sequential import DEFAULT_MIN_USERS, DEFAULT_RELATIVE_TAU, MixtureTest
from mixtrack.audit._stream import Event, Identity

if TYPE_CHECKING:
    from mixtrack.plan import Plan as TrackingPlan

__all__ = ["PARAMETERS", "audit_answer"]

PARAMETERS = (
    "experiment", "metric", "value_property", "control", "weights", "srm_threshold",
    "guardrail", "secondary", "correction", "sequential_tau", "sequential_min_users",
    "window", "format",
)  # fmt: skip


def audit_answer(
    events: Iterable[Event],
    identity: Identity,
    params: Mapping[str, str],
    tracking_plan: TrackingPlan | None = None,
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON answer of one ``GET /_mixtrack/audit`` over ``events``; with
    the collector's ``tracking_plan``, its off-plan findings too (as warnings)."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        return 400, {"error": f"unknown parameter(s) {unknown}; use {list(PARAMETERS)}"}
    try:
        threshold = float(params.get("srm_threshold") or 0.001)
        extra = tuple(
            parse_metric(text, role)
            for role in ("guardrail", "secondary")
            for text in (params.get(role) or "").split(",")
            if text.strip()
        )
        options = AuditOptions(
            experiment=params.get("experiment") or None,
            metric=params.get("metric") or None,
            value_property=params.get("value_property") or None,
            control=params.get("control") or None,
            weights=parse_plan(params.get("weights") or None),
            srm_threshold=threshold,
            metrics=extra,
            correction=params.get("correction") or "none",
            sequential_tau=float(params.get("sequential_tau") or DEFAULT_RELATIVE_TAU),
            sequential_min_users=int(params.get("sequential_min_users") or DEFAULT_MIN_USERS),
            window=float(params.get("window") or 90) * 86400.0,
            tracking_plan=tracking_plan,
        )
        adjust([], options.correction)
        MixtureTest(options.sequential_tau, options.sequential_min_users)
        if not options.window > 0 or params.get("format", "json") not in ("json", "html"):
            raise ValueError("window takes a positive number of days; format json or html")
    except ValueError as exc:
        return 400, {"error": str(exc)}
    events = list(events)
    problems = unknown_names(
        events, experiment=options.experiment, metrics=options.asked(), control=options.control
    )
    result = run_audit(events, options, identity)
    answer = result.as_json() | {"text": result.text(), "unknown": problems}
    if params.get("format") == "html":
        answer["html"] = render_panel(result.readout, result.readout_error)
    return 200, answer
