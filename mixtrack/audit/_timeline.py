"""The experiment replayed in time order: the always-valid test after every exposure and event,
and the cumulative lift over time that the report charts.

>>> from mixtrack.audit._metrics import Attribution, Change, Metric, Unit
>>> units = (Unit("a", "control", 1.0), Unit("b", "treatment", 2.0))
>>> entries = (Change((1.0, 0), 0, 0, 0.0), Change((2.0, 1), 1, 0, 0.0))
>>> found = Attribution(units, entries, {"Paid": [(0, 0.0), (1, 0.0)]},
...                     {"Paid": [Change((3.0, 2), 1, 1, 0.0)]})
>>> tests, lifts = walk(found, Metric("Paid"), ["control", "treatment"], None, 0.1, 2, 0.05)
>>> tests["treatment"].started, len(lifts)
(False, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from mixtrack.audit._metrics import Attribution, Change, Metric
from mixtrack.audit._sequential import MixtureTest

__all__ = ["LiftPoint", "walk"]

#: Points of the cumulative-lift chart at most (enough for a smooth line, small JSON).
CHART_POINTS = 60


@attrs.frozen
class LiftPoint:
    """The cumulative relative lift of each treatment at ``time``, with its always-valid
    interval (relative to the control mean then); None where it is not defined yet."""

    time: float
    lifts: tuple[tuple[str, float | None, float | None, float | None], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "lifts": {
                name: {"lift": lift, "low": low, "high": high}
                for name, lift, low, high in self.lifts
            },
        }


def walk(
    found: Attribution,
    metric: Metric,
    ordered: Sequence[str],
    cap: float | None,
    relative_tau: float,
    min_users: int,
    alpha: float,
) -> tuple[dict[str, MixtureTest], tuple[LiftPoint, ...]]:
    """Replay ``metric`` along the experiment; one always-valid test per treatment."""
    control = ordered[0]
    tests = {name: MixtureTest(relative_tau, min_users, alpha) for name in ordered[1:]}
    # Per variant: users, sum, sum of squares of the (capped) per-unit values.
    totals = {name: [0.0, 0.0, 0.0] for name in ordered}
    current = [0.0] * len(found.units)
    timeline = sorted(
        [
            *((c.order, 0, c) for c in found.entries),
            *((c.order, 1, c) for c in found.changes[metric.name]),
        ],
        key=lambda item: (item[0], item[1]),
    )
    if not timeline:
        return tests, ()
    start, end = timeline[0][0][0], timeline[-1][0][0]
    step = (end - start) / CHART_POINTS
    next_point = start + step
    points: list[LiftPoint] = []
    for _, kind, change in timeline:
        if step > 0 and change.order[0] >= next_point:
            points.append(_point(next_point, totals, tests, control))
            # Computed, not stepped: a step below the float spacing of the times would not move.
            passed = math.floor((change.order[0] - start) / step) + 1
            next_point = max(start + passed * step, math.nextafter(change.order[0], math.inf))
        variant = found.units[change.unit].variant
        _apply(totals[variant], current, change, metric, cap, entering=kind == 0)
        pairs = tests if variant == control else {variant: tests[variant]}
        for name, test in pairs.items():
            test.look(*totals[name], *totals[control])
    points.append(_point(end, totals, tests, control))
    return tests, tuple(points)


def _apply(
    total: list[float],
    current: list[float],
    change: Change,
    metric: Metric,
    cap: float | None,
    entering: bool,
) -> None:
    if entering:
        total[0] += 1.0
        return
    new = metric.value(change.count, change.total)
    if cap is not None:
        new = min(new, cap)
    old = current[change.unit]
    current[change.unit] = new
    total[1] += new - old
    total[2] += new * new - old * old


def _point(
    time: float, totals: dict[str, list[float]], tests: dict[str, MixtureTest], control: str
) -> LiftPoint:
    n2, s2, _ = totals[control]
    base = s2 / n2 if n2 else 0.0
    lifts: list[tuple[str, float | None, float | None, float | None]] = []
    for name, test in tests.items():
        n1, s1, _ = totals[name]
        if not n1 or not base:
            lifts.append((name, None, None, None))
            continue
        lift = (s1 / n1) / base - 1.0
        low, high = test.interval if test.started else (None, None)
        lifts.append(
            (
                name,
                lift,
                None if low is None or low == float("-inf") else low / abs(base),
                None if high is None or high == float("inf") else high / abs(base),
            )
        )
    return LiftPoint(time, tuple(lifts))
