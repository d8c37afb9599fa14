"""The audit against a tracking plan: events and properties that break it.

Every stored event is checked with :meth:`mixtrack.plan.Plan.check`, the same check the
client and the collector make, and the violations are grouped by reason into two findings:
``off_plan_event`` (an event the plan does not have, or marks dropped) and
``off_plan_property`` (a missing, unplanned or wrongly typed property; with
``$experiment_started`` in the plan, an unplanned experiment or variant name). They are
warnings, or errors when the plan is strict (``mixtrack audit --strict-plan``).

>>> from mixtrack.plan import Entry, Plan
>>> plan = Plan([Entry("event", "Signed up", {"properties": {"plan": {"type": "string"}}})])
>>> events = [{"event": "Signed upp", "properties": {"distinct_id": "u1"}}]
>>> [(f.code, f.severity, f.count) for f in plan_findings(events, plan)]
[('off_plan_event', 'warning', 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mixtrack.audit._findings import Finding, Severity
from mixtrack.plan import Plan

__all__ = ["plan_findings"]

_EVENT_RULES = frozenset({"unplanned_event", "dropped_event"})
_EXAMPLES = 3


def plan_findings(
    events: Iterable[Mapping[str, Any]], plan: Plan, *, strict: bool = False
) -> list[Finding]:
    """One finding per distinct reason events break ``plan``, most frequent first."""
    counts: dict[tuple[str, str], int] = {}
    examples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for message in events:
        name = message.get("event")
        props = message.get("properties")
        if not isinstance(name, str) or not isinstance(props, Mapping):
            continue
        for violation in plan.check(name, props):
            code = "off_plan_event" if violation.rule in _EVENT_RULES else "off_plan_property"
            key = (code, violation.reason)
            counts[key] = counts.get(key, 0) + 1
            seen = examples.setdefault(key, [])
            if len(seen) < _EXAMPLES:
                seen.append({"event": name, "distinct_id": props.get("distinct_id")})
    severity: Severity = "error" if strict else "warning"
    experiment_names = {"Experiment name", "Variant name"}
    findings = []
    for (code, reason), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        what = "events" if count != 1 else "event"
        about = next((n for n in experiment_names if repr(n) in reason), None)
        findings.append(
            Finding(
                code,
                severity,
                None,
                f"{count} {what} off the tracking plan: {reason}",
                count=count,
                examples=tuple(examples[(code, reason)]),
                fix=_fix(code, about),
            )
        )
    return findings


def _fix(code: str, about: str | None) -> str:
    if about is not None:
        return f"add the {about.split()[0].lower()} to the plan's $experiment_started, or fix it"
    if code == "off_plan_event":
        return "add the event to the plan, or fix its name where it is tracked"
    return "fix the property where the event is tracked, or change the plan"
