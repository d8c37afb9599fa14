"""Checking one event against the plan: the violations, each with a stable reason string.

The client, the collector and the audit all call :meth:`Plan.check`, so the same off-plan
event gets the same reason everywhere: ``"<rule>: <detail>"``, where ``rule`` is one of
:data:`RULES`. Validation is JSON Schema draft-07 by the ``jsonschema`` library; this module
only names what it found.

Properties every Mixpanel library adds (``$``- and ``mp_``-prefixed ones, ``token``,
``distinct_id``, ``time``, ``ip``, campaign parameters) are not the plan's business unless it
lists them, so a plan says what the app sends, not what the SDK adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import attrs

from mixtrack.errors import PlanError

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError as SchemaError

__all__ = ["RULES", "Rule", "Violation", "is_default_property", "json_type", "validator_for"]

Rule = Literal[
    "unplanned_event",
    "dropped_event",
    "missing_property",
    "unplanned_property",
    "wrong_type",
    "value_not_allowed",
    "invalid_value",
]
#: Every rule a violation can name, from the coarsest to the finest.
RULES: tuple[Rule, ...] = get_args(Rule)
_DEFAULT_NAMES = frozenset({"token", "distinct_id", "time", "ip", "gclid", "fbclid", "ttclid"})
_DEFAULT_PREFIXES = ("$", "mp_", "utm_")


@attrs.frozen
class Violation:
    """One way an event breaks the plan.

    >>> v = Violation("Viewed product", "wrong_type", "price", "'price' must be number, got string")
    >>> v.reason
    "wrong_type: 'price' must be number, got string"
    """

    event: str
    rule: Rule
    #: The property concerned (its top-level name), or None for the event itself.
    property_name: str | None
    detail: str

    @property
    def reason(self) -> str:
        """``"<rule>: <detail>"``, the same string in the client, the collector and the audit."""
        return f"{self.rule}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "property": self.property_name, "reason": self.reason}


def is_default_property(name: str) -> bool:
    """Whether ``name`` is one Mixpanel's libraries set themselves.

    >>> [is_default_property(n) for n in ("$browser", "utm_source", "plan")]
    [True, True, False]
    """
    return name in _DEFAULT_NAMES or name.startswith(_DEFAULT_PREFIXES)


def json_type(value: object) -> str:
    """The JSON Schema type name of a decoded JSON value.

    >>> json_type(3), json_type(3.5), json_type(True), json_type(None), json_type("a")
    ('integer', 'number', 'boolean', 'null', 'string')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def validator_for(schema: Mapping[str, Any], where: str) -> Draft7Validator:
    """A draft-07 validator for ``schema``, after checking ``schema`` against the meta-schema."""
    try:
        from jsonschema import Draft7Validator
        from jsonschema.exceptions import SchemaError
    except ImportError:  # pragma: no cover - the extra is part of dev
        raise PlanError(
            "tracking plans need the jsonschema library: pip install 'mixtrack[plan]'"
        ) from None
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise PlanError(f"{where}: not a draft-07 JSON Schema at {path}: {exc.message}") from None
    return Draft7Validator(schema)


def violations(
    event: str,
    schema: Mapping[str, Any],
    validator: Draft7Validator,
    properties: Mapping[str, Any],
) -> list[Violation]:
    """What is wrong with ``properties`` for ``event``, in a stable order."""
    planned = schema.get("properties")
    planned = planned if isinstance(planned, Mapping) else {}
    own = {k: v for k, v in properties.items() if k in planned or not is_default_property(k)}
    found: list[Violation] = []
    for error in validator.iter_errors(own):
        found.extend(_name(event, planned, own, error))
    # jsonschema reports a missing property once per name, extra ones once for all
    unique = set(found)
    return sorted(unique, key=lambda v: (RULES.index(v.rule), v.property_name or "", v.detail))


def _name(
    event: str, planned: Mapping[str, Any], given: Mapping[str, Any], error: SchemaError
) -> list[Violation]:
    path = list(error.absolute_path)
    if not path and error.validator == "required":
        return [
            Violation(event, "missing_property", name, f"{name!r} is required by {event!r}")
            for name in cast("list[str]", error.validator_value)
            if name not in given
        ]
    if not path and error.validator == "additionalProperties":
        extra = sorted(k for k in given if k not in planned)
        return [
            Violation(event, "unplanned_property", name, f"{name!r} is not a property of {event!r}")
            for name in extra
        ]
    top = str(path[0]) if path else None
    where = "/".join(str(p) for p in path) if path else "the event"
    label = repr(where) if path else where
    if error.validator == "type":
        expected = cast("str | list[str]", error.validator_value)
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        got = json_type(error.instance)
        return [Violation(event, "wrong_type", top, f"{label} must be {wanted}, got {got}")]
    if error.validator in ("enum", "const"):
        value = cast("Any", error.validator_value)
        allowed = value if error.validator == "enum" else [value]
        choices = ", ".join(repr(a) for a in allowed)
        detail = f"{label} must be one of {choices}, got {error.instance!r:.80}"
        return [Violation(event, "value_not_allowed", top, detail)]
    return [Violation(event, "invalid_value", top, f"{label}: {error.message:.200}")]
