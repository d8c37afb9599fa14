"""The readout of an experiment on several metrics: per-variant means, lifts, intervals, p-values.

Each metric (see ``_metrics``: conversion, count or sum of a property; primary, guardrail or
secondary) is read per variant and compared with control by one fixed-horizon test
(``_fixed``), corrected across the family of metrics and treatments (``_corrections``), and
by the always-valid mSPRT (``_sequential``) looked at after every exposure and event.

>>> def e(name, user, t, **props):
...     return {"event": name, "properties": {"distinct_id": user, "time": t, **props}}
>>> events = [e("$experiment_started", "u1", 1, **{"Experiment name": "x",
...           "Variant name": "control"}), e("Order completed", "u1", 2, revenue=5.0)]
>>> result = readout(events, "Order completed", value_property="revenue")
>>> revenue = result.metric_result("Order completed:sum(revenue)")
>>> result.variants[0].converted, revenue.variants[0].mean
(1, 5.0)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from mixtrack.audit._corrections import adjust, corrected_confidence
from mixtrack.audit._fixed import Difference, compare_means, compare_proportions
from mixtrack.audit._metrics import (
    DEFAULT_WINDOW,
    Attribution,
    Metric,
    attribute,
    parse_metric,
    winsor_cap,
)
from mixtrack.audit._sequential import DEFAULT_MIN_USERS, DEFAULT_RELATIVE_TAU
from mixtrack.audit._stream import Event, Identity, name_key, occurrences
from mixtrack.audit._timeline import LiftPoint, walk

__all__ = [
    "PEEKING_WARNING",
    "Comparison",
    "MetricResult",
    "Readout",
    "VariantResult",
    "readout",
]

PEEKING_WARNING = (
    "Fixed-horizon test: its p-values and intervals hold only if the sample size was fixed "
    "in advance and the result is read once. Reading them repeatedly and stopping at the "
    "first 'significant' result inflates false positives (peeking). To monitor while the "
    "test runs, use the always-valid p-value and interval (mSPRT), which stay valid however "
    "often they are read."
)


@attrs.frozen
class Comparison:
    """A variant against control on one metric.

    ``p_adjusted`` is the p-value after the readout's correction; ``ci_*`` are at the
    corrected confidence level, so they exclude 0 exactly when ``p_adjusted`` is below
    alpha. ``always_valid_*`` are None until both arms have the sequential minimum.
    """

    fixed: Difference
    p_adjusted: float
    ci_low: float
    ci_high: float
    relative_low: float | None
    relative_high: float | None
    always_valid_p: float | None
    always_valid_p_adjusted: float | None
    always_valid_low: float | None
    always_valid_high: float | None
    significant: bool
    #: Significant in the direction the metric calls bad.
    worse: bool

    @property
    def difference(self) -> float:
        return self.fixed.difference

    @property
    def relative_lift(self) -> float | None:
        return self.fixed.relative

    @property
    def p_value(self) -> float:
        return self.fixed.p_value

    def as_json(self) -> dict[str, Any]:
        return self.fixed.as_json() | {
            "absolute_lift": self.fixed.difference,
            "p_adjusted": self.p_adjusted,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "relative_ci_low": self.relative_low,
            "relative_ci_high": self.relative_high,
            "always_valid_p": self.always_valid_p,
            "always_valid_p_adjusted": self.always_valid_p_adjusted,
            "always_valid_ci_low": self.always_valid_low,
            "always_valid_ci_high": self.always_valid_high,
            "significant": self.significant,
            "worse": self.worse,
        }


@attrs.frozen
class VariantResult:
    """One variant on one metric: its users, their mean (the rate of a conversion) and sum."""

    variant: str
    users: int
    mean: float
    variance: float
    total: float
    versus_control: Comparison | None = None

    @property
    def rate(self) -> float:
        return self.mean

    @property
    def converted(self) -> int:
        """People who converted (the total of a conversion metric)."""
        return round(self.total)

    def as_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "users": self.users,
            "mean": self.mean,
            "rate": self.mean,
            "converted": self.converted,
            "total": self.total,
            "versus_control": self.versus_control.as_json() if self.versus_control else None,
        }


@attrs.frozen
class MetricResult:
    """A metric read out per variant (control first) and its cumulative lift over time."""

    metric: Metric
    variants: tuple[VariantResult, ...]
    cap: float | None = None
    lift_over_time: tuple[LiftPoint, ...] = ()

    def variant(self, name: str) -> VariantResult:
        return next(v for v in self.variants if v.variant == name)

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric.as_json(),
            "winsor_cap": self.cap,
            "variants": [v.as_json() for v in self.variants],
            "lift_over_time": [p.as_json() for p in self.lift_over_time],
        }


@attrs.frozen
class Readout:
    """An experiment's result on its metrics; the first metric is the primary one."""

    experiment: str
    control: str
    metrics: tuple[MetricResult, ...]
    confidence: float = 0.95
    correction: str = "none"
    corrected_confidence: float = 0.95
    window: float = DEFAULT_WINDOW
    relative_tau: float = DEFAULT_RELATIVE_TAU
    min_users: int = DEFAULT_MIN_USERS
    warning: str = PEEKING_WARNING

    @property
    def primary(self) -> MetricResult:
        return self.metrics[0]

    @property
    def metric(self) -> str:
        """The primary metric's event."""
        return self.primary.metric.event

    @property
    def variants(self) -> tuple[VariantResult, ...]:
        """The primary metric's variants."""
        return self.primary.variants

    def variant(self, name: str) -> VariantResult:
        return self.primary.variant(name)

    def metric_result(self, name: str) -> MetricResult:
        return next(m for m in self.metrics if m.metric.name == name)

    @property
    def comparisons(self) -> int:
        return sum(len(m.variants) - 1 for m in self.metrics)

    def regressions(self) -> list[tuple[Metric, VariantResult]]:
        """Guardrails a variant made significantly worse (after the correction)."""
        return [
            (m.metric, v)
            for m in self.metrics
            if m.metric.role == "guardrail"
            for v in m.variants
            if v.versus_control is not None and v.versus_control.worse
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "metric": self.metric,
            "control": self.control,
            "confidence": self.confidence,
            "correction": self.correction,
            "corrected_confidence": self.corrected_confidence,
            "window_seconds": self.window,
            "sequential_tau": self.relative_tau,
            "sequential_min_users": self.min_users,
            "variants": [v.as_json() for v in self.variants],
            "metrics": [m.as_json() for m in self.metrics],
            "guardrail_regressions": [
                {"metric": m.name, "variant": v.variant} for m, v in self.regressions()
            ],
            "warning": self.warning,
        }


def _metrics(
    metric: str | Metric | Sequence[str | Metric], value_property: str | None
) -> list[Metric]:
    given = [metric] if isinstance(metric, (str, Metric)) else list(metric)
    found = [m if isinstance(m, Metric) else parse_metric(m) for m in given]
    if value_property and found:
        found.append(Metric(found[0].event, "sum", value_property, "secondary"))
    if not found:
        raise ValueError("a readout needs at least one metric")
    return found


def readout(
    events: Iterable[Event],
    metric: str | Metric | Sequence[str | Metric],
    *,
    experiment: str | None = None,
    value_property: str | None = None,
    control: str | None = None,
    identity: Identity | None = None,
    confidence: float = 0.95,
    correction: str = "none",
    relative_tau: float = DEFAULT_RELATIVE_TAU,
    min_users: int = DEFAULT_MIN_USERS,
    window: float = DEFAULT_WINDOW,
) -> Readout:
    """Compare the variants of ``experiment`` on ``metric`` (an event name, a
    :class:`Metric`, its text form, or a list of them; the first is primary).

    ``experiment`` may be left out when the stream exposes exactly one. ``control`` defaults
    to a variant named like "control", else the first name in sorted order. With
    ``value_property``, a secondary ``sum(value_property)`` metric of the first event is added.
    """
    metrics = _metrics(metric, value_property)
    seen = occurrences(events, identity)
    names = sorted({str(o.experiment) for o in seen if o.is_exposure and o.experiment})
    if experiment is None:
        if len(names) != 1:
            raise ValueError(f"choose an experiment: the events expose {names or 'none'}")
        experiment = names[0]
    found = attribute(seen, experiment, metrics, window)
    if not found.units:
        raise ValueError(f"no exposures of experiment {experiment!r}; experiments seen: {names}")
    variants = sorted({u.variant for u in found.units})
    if control is None:
        control = next((v for v in variants if name_key(v) == "control"), variants[0])
    elif control not in variants:
        raise ValueError(f"control variant {control!r} has no exposures; variants: {variants}")
    ordered = [control, *(v for v in variants if v != control)]
    alpha = 1.0 - confidence
    fixed: dict[tuple[int, str], Difference] = {}
    partial = []
    for index, m in enumerate(metrics):
        one = _metric(found, m, ordered, confidence, relative_tau, min_users)
        partial.append(one)
        for name, (_, _, _, _, diff) in one[0].items():
            if diff is not None:
                fixed[(index, name)] = diff
    keys = list(fixed)
    adjusted = dict(zip(keys, adjust([fixed[k].p_value for k in keys], correction), strict=True))
    level = corrected_confidence([fixed[k].p_value for k in keys], correction, confidence)
    sequential = {k: partial[k[0]][2].get(k[1]) for k in keys}
    seq_keys = [k for k in keys if sequential[k] is not None]
    seq_adjusted = dict(
        zip(seq_keys, adjust([sequential[k][0] for k in seq_keys], correction), strict=True)  # type: ignore[index]
    )
    results = []
    for index, m in enumerate(metrics):
        rows, cap, _, lifts = partial[index]
        out = []
        for name in ordered:
            users, mean, var, total, diff = rows[name]
            comparison = None
            if diff is not None:
                key = (index, name)
                comparison = _comparison(
                    m, diff, adjusted[key], level, alpha, sequential[key], seq_adjusted.get(key)
                )
            out.append(VariantResult(name, users, mean, var, total, comparison))
        results.append(MetricResult(m, tuple(out), cap, lifts))
    return Readout(
        experiment, control, tuple(results), confidence, correction, level, window,
        relative_tau, min_users,
    )  # fmt: skip


Row = tuple[int, float, float, float, Difference | None]
Sequential = tuple[float, float, float]


def _metric(
    found: Attribution,
    metric: Metric,
    ordered: list[str],
    confidence: float,
    relative_tau: float,
    min_users: int,
) -> tuple[dict[str, Row], float | None, dict[str, Sequential | None], tuple[LiftPoint, ...]]:
    values = found.values(metric)
    cap = winsor_cap(values, metric.winsor) if metric.winsor is not None else None
    if cap is not None:
        values = [min(v, cap) for v in values]
    by_variant: dict[str, list[float]] = defaultdict(list)
    for unit, value in zip(found.units, values, strict=True):
        by_variant[unit.variant].append(value)
    control = ordered[0]
    summary = {name: _summary(by_variant[name]) for name in ordered}
    rows: dict[str, Row] = {}
    for name in ordered:
        n, mean, var, total = summary[name]
        diff = (
            None if name == control else _fixed(metric, summary[name], summary[control], confidence)
        )
        rows[name] = (n, mean, var, total, diff)
    tests, lifts = walk(found, metric, ordered, cap, relative_tau, min_users, 1.0 - confidence)
    sequential: dict[str, Sequential | None] = {
        name: (t.p_value, *t.interval) if t.started else None for name, t in tests.items()
    }
    return rows, cap, sequential, lifts


def _summary(values: list[float]) -> tuple[int, float, float, float]:
    n = len(values)
    total = math.fsum(values)
    mean = total / n if n else 0.0
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return n, mean, var, total


def _fixed(
    metric: Metric,
    treatment: tuple[int, float, float, float],
    control: tuple[int, float, float, float],
    confidence: float,
) -> Difference | None:
    n1, m1, v1, t1 = treatment
    n2, m2, v2, t2 = control
    if metric.kind == "conversion":
        return compare_proportions(round(t1), n1, round(t2), n2, confidence)
    if n1 < 2 or n2 < 2:
        return None
    return compare_means(m1, v1, n1, m2, v2, n2, confidence)


def _comparison(
    metric: Metric,
    diff: Difference,
    p_adjusted: float,
    level: float,
    alpha: float,
    sequential: Sequential | None,
    sequential_adjusted: float | None,
) -> Comparison:
    low, high, rel_low, rel_high = diff.at(level)
    significant = p_adjusted < alpha
    bad_way = diff.difference < 0 if metric.good == "higher" else diff.difference > 0
    p_seq, seq_low, seq_high = sequential if sequential is not None else (None, None, None)
    return Comparison(
        diff, p_adjusted, low, high, rel_low, rel_high, p_seq, sequential_adjusted,
        seq_low, seq_high, significant, significant and bad_way,
    )  # fmt: skip
