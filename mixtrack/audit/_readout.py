"""The readout of an experiment on one metric event: conversion, lift, intervals, p-values.

A person counts in the variant of their first exposure; they convert when the metric event
happens at or after that exposure (under any of their merged ids). With ``value_property``
(e.g. ``revenue``) the sum of that property after exposure is averaged over every exposed
person, converted or not, and compared with Welch's t-test.

>>> def e(name, user, t, **props):
...     return {"event": name, "properties": {"distinct_id": user, "time": t, **props}}
>>> events = [e("$experiment_started", "u1", 1, **{"Experiment name": "x",
...           "Variant name": "control"}), e("Order completed", "u1", 2, revenue=5.0)]
>>> result = readout(events, "Order completed", value_property="revenue")
>>> result.variants[0].converted, result.variants[0].value_mean
(1, 5.0)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from mixtrack.audit._sequential import DEFAULT_MIN_USERS, DEFAULT_MIXING_SD, always_valid_p
from mixtrack.audit._stats import TwoProportions, Welch, two_proportion_z, welch_t
from mixtrack.audit._stream import Event, Identity, Occurrence, name_key, occurrences

__all__ = ["PEEKING_WARNING", "Comparison", "Readout", "VariantResult", "readout"]

PEEKING_WARNING = (
    "Fixed-horizon test: these p-values and intervals hold only if the sample size was fixed "
    "in advance and the result is read once. Reading them repeatedly and stopping at the "
    "first 'significant' result inflates false positives (peeking). To monitor while the "
    "test runs, use the always-valid p-value (mSPRT), which stays valid however often it "
    "is read."
)


@attrs.frozen
class Comparison:
    """A variant against control."""

    conversion: TwoProportions
    relative_lift: float | None
    #: None until both arms have the minimum number of users for the sequential test.
    always_valid_p: float | None
    value: Welch | None = None

    def as_json(self) -> dict[str, Any]:
        c = self.conversion
        return {
            "absolute_lift": c.difference,
            "relative_lift": self.relative_lift,
            "ci_low": c.ci_low,
            "ci_high": c.ci_high,
            "z": c.z,
            "p_value": c.p_value,
            "always_valid_p": self.always_valid_p,
            "value": None if self.value is None else attrs.asdict(self.value),
        }


@attrs.frozen
class VariantResult:
    """One variant: exposed people, conversions after exposure, and the comparison."""

    variant: str
    users: int
    converted: int
    values: tuple[float, ...] = ()
    versus_control: Comparison | None = None

    @property
    def rate(self) -> float:
        return self.converted / self.users if self.users else 0.0

    @property
    def value_mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    def as_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "users": self.users,
            "converted": self.converted,
            "rate": self.rate,
            "value_mean": self.value_mean,
            "versus_control": self.versus_control.as_json() if self.versus_control else None,
        }


@attrs.frozen
class Readout:
    """An experiment's result on ``metric``; ``variants`` lists control first."""

    experiment: str
    metric: str
    value_property: str | None
    control: str
    variants: tuple[VariantResult, ...]
    confidence: float = 0.95
    warning: str = PEEKING_WARNING
    min_users: int = DEFAULT_MIN_USERS

    def variant(self, name: str) -> VariantResult:
        return next(v for v in self.variants if v.variant == name)

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "metric": self.metric,
            "value_property": self.value_property,
            "control": self.control,
            "confidence": self.confidence,
            "sequential_min_users": self.min_users,
            "variants": [v.as_json() for v in self.variants],
            "warning": self.warning,
        }


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def readout(
    events: Iterable[Event],
    metric: str,
    *,
    experiment: str | None = None,
    value_property: str | None = None,
    control: str | None = None,
    identity: Identity | None = None,
    confidence: float = 0.95,
    mixing_sd: float = DEFAULT_MIXING_SD,
    min_users: int = DEFAULT_MIN_USERS,
) -> Readout:
    """Compare the variants of ``experiment`` on the metric event ``metric``.

    ``experiment`` may be left out when the stream exposes exactly one. ``control`` defaults
    to a variant named like "control", else the first name in sorted order.
    ``mixing_sd``/``min_users`` tune the always-valid p-value (see ``_sequential``).
    """
    seen = occurrences(events, identity)
    names = sorted({str(o.experiment) for o in seen if o.is_exposure and o.experiment})
    if experiment is None:
        if len(names) != 1:
            raise ValueError(f"choose an experiment: the events expose {names or 'none'}")
        experiment = names[0]
    first: dict[str, Occurrence] = {}
    for o in seen:
        if o.is_exposure and o.experiment == experiment and o.variant is not None:
            known = first.get(o.person)
            if known is None or o.order < known.order:
                first[o.person] = o
    if not first:
        raise ValueError(f"no exposures of experiment {experiment!r}; experiments seen: {names}")
    conversions: dict[str, Occurrence] = {}
    totals: dict[str, float] = defaultdict(float)
    for o in seen:
        exposed = first.get(o.person)
        if o.event != metric or exposed is None or o.time < exposed.time:
            continue
        if o.person not in conversions or o.order < conversions[o.person].order:
            conversions[o.person] = o
        if value_property is not None:
            totals[o.person] += _number(o.properties.get(value_property)) or 0.0
    groups: dict[str, list[str]] = defaultdict(list)
    for person, o in first.items():
        groups[str(o.variant)].append(person)
    variants = sorted(groups)
    if control is None:
        control = next((v for v in variants if name_key(v) == "control"), variants[0])
    elif control not in groups:
        raise ValueError(f"control variant {control!r} has no exposures; variants: {variants}")
    ordered = [control, *(v for v in variants if v != control)]
    results = []
    base = _counts(groups[control], conversions, totals, value_property)
    for name in ordered:
        converted, values = _counts(groups[name], conversions, totals, value_property)
        comparison = None
        if name != control:
            comparison = _compare(
                name, control, groups, (converted, values), base, first, conversions,
                confidence, mixing_sd, min_users,
            )  # fmt: skip
        results.append(VariantResult(name, len(groups[name]), converted, values, comparison))
    return Readout(
        experiment, metric, value_property, control, tuple(results), confidence,
        min_users=min_users,
    )  # fmt: skip


def _counts(
    people: list[str],
    conversions: Mapping[str, Occurrence],
    totals: Mapping[str, float],
    value_property: str | None,
) -> tuple[int, tuple[float, ...]]:
    converted = sum(1 for p in people if p in conversions)
    values = tuple(totals.get(p, 0.0) for p in people) if value_property else ()
    return converted, values


def _compare(
    name: str,
    control: str,
    groups: Mapping[str, list[str]],
    mine: tuple[int, tuple[float, ...]],
    base: tuple[int, tuple[float, ...]],
    first: Mapping[str, Occurrence],
    conversions: Mapping[str, Occurrence],
    confidence: float,
    mixing_sd: float,
    min_users: int,
) -> Comparison:
    n1, n2 = len(groups[name]), len(groups[control])
    (x1, v1), (x2, v2) = mine, base
    test = two_proportion_z(x1, n1, x2, n2, confidence)
    rate_control = x2 / n2
    relative = test.difference / rate_control if rate_control else None
    sequential = None
    if min(n1, n2) >= min_users:
        looks = _looks(name, control, first, conversions)
        sequential = always_valid_p(looks, mixing_sd, min_users)
    value = welch_t(v1, v2, confidence) if len(v1) >= 2 and len(v2) >= 2 else None
    return Comparison(test, relative, sequential, value)


def _looks(
    name: str, control: str, first: Mapping[str, Occurrence], conversions: Mapping[str, Occurrence]
) -> Iterator[tuple[int, int, int, int]]:
    """The counts after every exposure and conversion in the two arms, in time order."""
    timeline: list[tuple[tuple[float, int], str, int]] = []
    for person, o in first.items():
        if o.variant in (name, control):
            arm = 0 if o.variant == name else 1
            timeline.append((o.order, "n", arm))
            if person in conversions:
                timeline.append((max(o.order, conversions[person].order), "x", arm))
    timeline.sort()
    counts = [0, 0, 0, 0]  # x1, n1, x2, n2
    for _, kind, arm in timeline:
        counts[arm * 2 + (1 if kind == "n" else 0)] += 1
        yield counts[0], counts[1], counts[2], counts[3]
