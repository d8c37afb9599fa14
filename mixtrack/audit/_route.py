"""``GET /_mixtrack/audit``: the audit (and readout) of what a collector has stored.

Parameters: ``experiment``, ``metric``, ``value_property``, ``control``, ``weights``
(``control=50,treatment=50`` or a JSON object, per experiment or for ``experiment``),
``srm_threshold``. The answer is :meth:`AuditResult.as_json`, plus ``text``: the table
``mixtrack audit`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping

from mixtrack.audit._run import AuditOptions, parse_plan, run_audit
from mixtrack.audit._source import from_store
from mixtrack.collector._responses import Answer, control
from mixtrack.collector._store import Store

__all__ = ["PARAMETERS", "audit_route"]

PARAMETERS = ("experiment", "metric", "value_property", "control", "weights", "srm_threshold")


def audit_route(store: Store, method: str, params: Mapping[str, str], body: bytes) -> Answer:
    """Answer one request to ``/_mixtrack/audit`` from ``store``."""
    if method != "GET":
        return control({"error": "audit takes GET"}, 405)
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        return control({"error": f"unknown parameter(s) {unknown}; use {list(PARAMETERS)}"}, 400)
    try:
        threshold = float(params.get("srm_threshold") or 0.001)
        options = AuditOptions(
            experiment=params.get("experiment") or None,
            metric=params.get("metric") or None,
            value_property=params.get("value_property") or None,
            control=params.get("control") or None,
            weights=parse_plan(params.get("weights") or None),
            srm_threshold=threshold,
        )
    except ValueError as exc:
        return control({"error": str(exc)}, 400)
    events, identity = from_store(store)
    result = run_audit(events, options, identity)
    return control(result.as_json() | {"text": result.text()})
