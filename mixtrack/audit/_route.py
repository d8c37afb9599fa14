"""``GET /_mixtrack/audit``: the audit (and readout) of what a collector has stored.

Parameters: ``experiment``, ``metric``, ``value_property``, ``control``, ``weights``
(``control=50,treatment=50`` or a JSON object, per experiment or for ``experiment``),
``srm_threshold``. The answer is :meth:`AuditResult.as_json`, plus ``text``: the table
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

from mixtrack.audit._names import unknown_names
from mixtrack.audit._run import AuditOptions, parse_plan, run_audit
from mixtrack.audit._stream import Event, Identity

if TYPE_CHECKING:
    from mixtrack.plan import Plan as TrackingPlan

__all__ = ["PARAMETERS", "audit_answer"]

PARAMETERS = ("experiment", "metric", "value_property", "control", "weights", "srm_threshold")


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
        options = AuditOptions(
            experiment=params.get("experiment") or None,
            metric=params.get("metric") or None,
            value_property=params.get("value_property") or None,
            control=params.get("control") or None,
            weights=parse_plan(params.get("weights") or None),
            srm_threshold=threshold,
            tracking_plan=tracking_plan,
        )
    except ValueError as exc:
        return 400, {"error": str(exc)}
    events = list(events)
    problems = unknown_names(events, experiment=options.experiment, metric=options.metric)
    result = run_audit(events, options, identity)
    return 200, result.as_json() | {"text": result.text(), "unknown": problems}
