"""Metrics of a readout and how behaviour is attributed to variants.

A metric is an event and a kind, tagged with a role:

* ``conversion``: did the person do the event (0/1 per person; Bernoulli);
* ``count``: how many times (events per person);
* ``sum(PROPERTY)``: the total of a numeric property, e.g. ``sum(revenue)`` (a non-number
  counts as 0).

Roles: ``primary`` (the decision), ``guardrail`` (must not get significantly worse: the gate
fails when it does) and ``secondary`` (read, not gated). The text form is
``[ROLE:]EVENT[:KIND][:higher|:lower][:winsor=PCT]``; ``higher``/``lower`` says which way is good
(higher by default), ``winsor=99`` caps each person's value at the 99th percentile of all
people's.

>>> m = parse_metric("Order completed:sum(revenue):winsor=99", "primary")
>>> m.event, m.kind, m.prop, m.role, m.good, m.winsor
('Order completed', 'sum', 'revenue', 'primary', 'higher', 99.0)
>>> parse_metric("Refund requested:lower", "guardrail").label
'Refund requested (guardrail, lower is better)'

Attribution, as Mixpanel's experiment report does it: a person counts once in every variant
they were exposed to, from their first exposure to it; an event counts for the variant of
their latest exposure at or before it (an event in the same second as an exposure counts
after it), so a person who switched variants is split at the switch; and only events within
``window`` seconds of that first exposure count (90 days by default).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import attrs

from mixtrack.audit._stream import Occurrence

__all__ = [
    "DEFAULT_WINDOW",
    "Change",
    "Metric",
    "Unit",
    "attribute",
    "parse_metric",
]

Kind = Literal["conversion", "count", "sum"]
Role = Literal["primary", "guardrail", "secondary"]
ROLES: tuple[Role, ...] = ("primary", "guardrail", "secondary")
DEFAULT_WINDOW = 90 * 86400.0
_SUM = re.compile(r"^sum\((?P<prop>[^()]+)\)$")
_WINSOR = re.compile(r"^winsor=(?P<pct>[0-9.]+)$")


@attrs.frozen
class Metric:
    """One metric of a readout."""

    event: str
    kind: Kind = "conversion"
    prop: str | None = None
    role: Role = "primary"
    good: Literal["higher", "lower"] = "higher"
    winsor: float | None = None

    @property
    def name(self) -> str:
        """How the metric is written: ``Order completed:sum(revenue)``."""
        kind = "" if self.kind == "conversion" else f":{self.kind}"
        return self.event + (f":sum({self.prop})" if self.kind == "sum" else kind)

    @property
    def label(self) -> str:
        detail = self.role + (", lower is better" if self.good == "lower" else "")
        return f"{self.name} ({detail})"

    def value(self, count: int, total: float) -> float:
        """A person's value from their counted events and the total of the property."""
        if self.kind == "conversion":
            return 1.0 if count else 0.0
        return float(count) if self.kind == "count" else total

    def as_json(self) -> dict[str, object]:
        return attrs.asdict(self) | {"name": self.name}


def parse_metric(text: str, role: str = "primary") -> Metric:
    """A :class:`Metric` from ``[ROLE:]EVENT[:KIND][:higher|:lower][:winsor=PCT]``; a leading
    ``primary:``, ``guardrail:`` or ``secondary:`` overrides ``role``.

    >>> parse_metric("guardrail:Refund requested:count:lower").role
    'guardrail'
    """
    parts = text.split(":")
    if len(parts) > 1 and parts[0].strip() in ROLES:
        role = parts.pop(0).strip()
    if role not in ROLES:
        raise ValueError(f"a metric's role is one of {', '.join(ROLES)}; got {role!r}")
    kind: Kind = "conversion"
    prop = None
    good: Literal["higher", "lower"] = "higher"
    winsor = None
    # Modifiers are read from the right, so an event name may itself contain a colon.
    while len(parts) > 1:
        last = parts[-1].strip()
        summed, capped = _SUM.match(last), _WINSOR.match(last)
        if last in ("conversion", "count"):
            kind = "conversion" if last == "conversion" else "count"
        elif summed:
            kind, prop = "sum", summed["prop"].strip()
        elif last in ("higher", "lower"):
            good = "higher" if last == "higher" else "lower"
        elif capped:
            winsor = float(capped["pct"])
            if not 50.0 <= winsor < 100.0:
                raise ValueError(f"winsor= takes a percentile from 50 to below 100, got {last!r}")
        else:
            break
        parts.pop()
    event = ":".join(parts).strip()
    if not event:
        raise ValueError(f"a metric needs an event name, e.g. 'Order completed'; got {text!r}")
    return Metric(event, kind, prop, role, good, winsor)


@attrs.frozen
class Unit:
    """A person's time in one variant: what every metric counts per user."""

    person: str
    variant: str
    start: float


@attrs.frozen
class Change:
    """At ``order``, ``unit``'s raw value of a metric became ``count``/``total`` (a new unit
    enters at 0): the timeline the always-valid test looks along."""

    order: tuple[float, int]
    unit: int
    count: int
    total: float


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) else 0.0


@attrs.frozen
class Attribution:
    """An experiment's units, and for each metric its per-unit raw values and timeline."""

    units: tuple[Unit, ...]
    entries: tuple[Change, ...]
    #: metric name -> per unit (count, total), and the changes in time order.
    raw: Mapping[str, list[tuple[int, float]]]
    changes: Mapping[str, list[Change]]

    def values(self, metric: Metric, cap: float | None = None) -> list[float]:
        """Per unit value of ``metric``, capped at ``cap``."""
        values = [metric.value(c, t) for c, t in self.raw[metric.name]]
        return values if cap is None else [min(v, cap) for v in values]


def attribute(
    seen: Sequence[Occurrence],
    experiment: str,
    metrics: Iterable[Metric],
    window: float = DEFAULT_WINDOW,
) -> Attribution:
    """Units of ``experiment`` and what each did, per metric (see the module docstring)."""
    metrics = list(metrics)
    units: list[Unit] = []
    entries: list[Change] = []
    unit_of: dict[tuple[str, str], int] = {}
    # Per person: (exposure time, arrival, unit), in time order.
    history: dict[str, list[tuple[float, int, int]]] = {}
    exposures = [o for o in seen if o.is_exposure and o.experiment == experiment and o.variant]
    for o in sorted(exposures, key=lambda o: o.order):
        key = (o.person, str(o.variant))
        if key not in unit_of:
            unit_of[key] = len(units)
            units.append(Unit(o.person, str(o.variant), o.time))
            entries.append(Change(o.order, unit_of[key], 0, 0.0))
        history.setdefault(o.person, []).append((o.time, o.index, unit_of[key]))
    events = {m.event for m in metrics}
    raw = {m.name: [(0, 0.0)] * len(units) for m in metrics}
    changes: dict[str, list[Change]] = {m.name: [] for m in metrics}
    for o in seen:
        if o.event not in events or o.person not in history:
            continue
        unit = _unit_at(history[o.person], o.time)
        if unit is None or o.time - units[unit].start > window:
            continue
        for m in metrics:
            if m.event != o.event:
                continue
            count, total = raw[m.name][unit]
            amount = _number(o.properties.get(m.prop)) if m.prop else 0.0
            raw[m.name][unit] = (count + 1, total + amount)
            changes[m.name].append(Change(o.order, unit, count + 1, total + amount))
    for timeline in changes.values():
        timeline.sort(key=lambda c: c.order)
    return Attribution(tuple(units), tuple(entries), raw, changes)


def _unit_at(history: list[tuple[float, int, int]], time: float) -> int | None:
    """The unit of the person's latest exposure at or before ``time`` (same second counts)."""
    found = None
    for exposed_at, _, unit in history:
        if exposed_at > time:
            break
        found = unit
    return found


def winsor_cap(values: Sequence[float], percentile: float) -> float:
    """The ``percentile`` of ``values`` (linear interpolation, as numpy's default).

    >>> winsor_cap([1.0, 2.0, 3.0, 4.0, 100.0], 75)
    4.0
    """
    ordered = sorted(values)
    if not ordered:
        return math.inf
    rank = (len(ordered) - 1) * percentile / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
