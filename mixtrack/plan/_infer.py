"""``mixtrack plan infer``: a first plan from the events a collector saw.

For each event name: each property's JSON types, whether it is required (present in at least
``required_share`` of the event's occurrences; all of them by default), and an ``enum`` when a
string property took few distinct values over enough events. The result validates the events
it came from, so a team can start from it and tighten it by hand.

>>> events = [{"event": "Signed up", "properties": {"plan": p, "$browser": "Chrome"}}
...           for p in ["free", "pro"] * 10]
>>> plan = infer(events)
>>> plan.events["Signed up"].properties["plan"]
{'type': 'string', 'enum': ['free', 'pro']}
>>> plan.check("Signed up", {"plan": "gold"})[0].rule
'value_not_allowed'
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from mixtrack.plan._check import is_default_property, json_type
from mixtrack.plan._plan import Plan
from mixtrack.plan._schema import Entry

__all__ = ["infer"]

_SCHEMA = "http://json-schema.org/draft-07/schema#"


class _Seen:
    """What was seen of one event: occurrences, and per property its types and values."""

    def __init__(self) -> None:
        self.count = 0
        self.present: Counter[str] = Counter()
        self.types: dict[str, set[str]] = defaultdict(set)
        self.values: dict[str, set[str]] = defaultdict(set)
        self.items: dict[str, set[str]] = defaultdict(set)

    def add(self, properties: Mapping[str, Any], enum_limit: int) -> None:
        self.count += 1
        for key, value in properties.items():
            if is_default_property(key):
                continue
            self.present[key] += 1
            kind = json_type(value)
            self.types[key].add(kind)
            if kind == "string" and len(self.values[key]) <= enum_limit:
                self.values[key].add(value)
            if kind == "array":
                self.items[key].update(json_type(v) for v in value)


def infer(
    events: Iterable[Mapping[str, Any]],
    *,
    required_share: float = 1.0,
    enum_limit: int = 10,
    enum_min_events: int = 20,
) -> Plan:
    """A plan for ``events`` (``{"event", "properties"}`` dicts): one schema per event
    name, Mixpanel's own ``$`` events left out except ``$experiment_started``."""
    seen: dict[str, _Seen] = defaultdict(_Seen)
    for message in events:
        name = message.get("event")
        props = message.get("properties")
        if not isinstance(name, str) or not name:
            continue
        if name.startswith("$") and name != "$experiment_started":
            continue
        seen[name].add(props if isinstance(props, Mapping) else {}, enum_limit)
    entries = [
        Entry("event", name, _schema(name, one, required_share, enum_limit, enum_min_events))
        for name, one in sorted(seen.items())
    ]
    return Plan(entries, source="inferred")


def _schema(
    name: str, seen: _Seen, required_share: float, enum_limit: int, enum_min_events: int
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key in sorted(seen.present):
        types = seen.types[key]
        if types == {"integer", "number"} or types == {"integer", "number", "null"}:
            types = types - {"integer"}  # 3 and 3.5 are both numbers
        rule: dict[str, Any] = {"type": sorted(types)[0] if len(types) == 1 else sorted(types)}
        values = seen.values[key]
        if (
            types == {"string"}
            and 0 < len(values) <= enum_limit
            and seen.present[key] >= enum_min_events
        ):
            rule["enum"] = sorted(values)
        if types == {"array"} and len(seen.items[key]) == 1:
            rule["items"] = {"type": next(iter(seen.items[key]))}
        properties[key] = rule
    required = [k for k in sorted(seen.present) if seen.present[k] >= required_share * seen.count]
    return {
        "$schema": _SCHEMA,
        "type": "object",
        "description": f"Inferred from {seen.count} events named {name!r}.",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "metadata": {"com.mixpanel": {"displayName": name}},
    }
