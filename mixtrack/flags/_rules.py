"""Pure pieces of flag evaluation: stable hashing into buckets and attribute targeting."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from mixtrack.errors import ConfigError

__all__ = ["Condition", "bucket", "choose", "parse_targeting"]

_OPERATORS = ("equals", "not_equals", "in", "not_in", "exists", "gt", "gte", "lt", "lte")


def bucket(*parts: str) -> float:
    """A stable number in ``[0, 1)`` for ``parts``: the same in every process, run and host.

    Uses BLAKE2b, never Python's ``hash()`` (salted per process).

    >>> bucket("checkout_redesign", "user-42") == bucket("checkout_redesign", "user-42")
    True
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def choose(weights: Sequence[tuple[str, float]], point: float) -> str:
    """The name whose share of the summed weights contains ``point`` (in ``[0, 1)``).

    >>> choose([("control", 50), ("treatment", 50)], 0.7)
    'treatment'
    """
    total = sum(weight for _, weight in weights)
    target = point * total
    running = 0.0
    for name, weight in weights:
        running += weight
        if target < running:
            return name
    # Rounding can leave target == total; the last variant with weight owns that edge.
    return next(name for name, weight in reversed(weights) if weight > 0)


@attrs.frozen
class Condition:
    """One targeting test on one attribute, e.g. ``plan in ["pro", "team"]``."""

    attribute: str
    operator: str
    operand: Any

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        present = self.attribute in attributes
        if self.operator == "exists":
            return present is bool(self.operand)
        if not present:
            return self.operator in ("not_equals", "not_in")
        value = attributes[self.attribute]
        if self.operator == "equals":
            return bool(value == self.operand)
        if self.operator == "not_equals":
            return bool(value != self.operand)
        if self.operator == "in":
            return value in self.operand
        if self.operator == "not_in":
            return value not in self.operand
        try:
            if self.operator == "gt":
                return bool(value > self.operand)
            if self.operator == "gte":
                return bool(value >= self.operand)
            if self.operator == "lt":
                return bool(value < self.operand)
            return bool(value <= self.operand)
        except TypeError:
            return False  # a str compared with a number does not match; it is not an error


def parse_targeting(experiment: str, spec: Any) -> tuple[Condition, ...]:
    """Read targeting in one of two forms; every condition must match (AND).

    Short form, a mapping of attribute to a value (equals) or a list (in)::

        {"plan": ["pro", "team"], "country": "DE"}

    Long form, a list of rules with one operator each (``equals``, ``not_equals``, ``in``,
    ``not_in``, ``exists``, ``gt``, ``gte``, ``lt``, ``lte``)::

        [{"attribute": "age", "gte": 18}, {"attribute": "beta", "exists": True}]
    """
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        return tuple(
            Condition(str(name), "in" if isinstance(value, (list, tuple)) else "equals", value)
            for name, value in spec.items()
        )
    if not isinstance(spec, (list, tuple)):
        raise ConfigError(
            f"experiment {experiment!r}: targeting must be a mapping or a list of rules, "
            f"got {spec!r}"
        )
    conditions = []
    for rule in spec:
        if not isinstance(rule, Mapping) or not isinstance(rule.get("attribute"), str):
            raise ConfigError(
                f"experiment {experiment!r}: each targeting rule needs an 'attribute' name, "
                f"got {rule!r}"
            )
        operators = [key for key in rule if key != "attribute"]
        if len(operators) != 1 or operators[0] not in _OPERATORS:
            raise ConfigError(
                f"experiment {experiment!r}: targeting rule {rule!r} needs exactly one "
                f"operator of {', '.join(_OPERATORS)}"
            )
        operator = operators[0]
        operand = rule[operator]
        if operator in ("in", "not_in") and not isinstance(operand, (list, tuple)):
            raise ConfigError(
                f"experiment {experiment!r}: {operator!r} needs a list, got {operand!r}"
            )
        conditions.append(Condition(rule["attribute"], operator, operand))
    return tuple(conditions)
