"""``StaticFlags``: experiments defined in code or in a JSON/YAML file, evaluated locally."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from mixtrack.errors import ConfigError
from mixtrack.flags._provider import Assignment
from mixtrack.flags._rules import Condition, bucket, choose, parse_targeting

__all__ = ["StaticFlags"]

_BOOLEAN_NAMES = {"on": True, "true": True, "off": False, "false": False}
_LONG_FORM_KEYS = {
    "variants", "targeting", "overrides", "holdout", "enabled", "salt", "bucket_by", "type",
    "id", "in_experiment",
}  # fmt: skip


@attrs.frozen
class _Experiment:
    name: str
    weights: tuple[tuple[str, float], ...]
    values: Mapping[str, Any]
    targeting: tuple[Condition, ...]
    overrides: Mapping[str, str]
    holdout: float
    enabled: bool
    salt: str
    bucket_by: str | None
    in_experiment: bool
    metadata: Mapping[str, Any]


class StaticFlags:
    """A dependency-free :class:`~mixtrack.flags.FlagProvider` from a dict or a JSON/YAML file.

    Each experiment is either a mapping of variant to weight, or a mapping with these keys:

    - ``variants``: ``{"control": 50, "treatment": {"weight": 50, "value": "green"}}`` or a
      list of names (equal weights). Weights are relative; they need not add up to 100.
      Variants named ``on``/``true`` and ``off``/``false`` get the values ``True``/``False``.
    - ``targeting``: who may enter (see below); others get ``variant=None``.
    - ``overrides``: ``{"qa-alice": "treatment"}``, forced variants for QA users; they are
      exposed with ``$is_qa_tester: true`` so analysis can leave them out.
    - ``holdout``: percent of eligible users kept out of the experiment entirely.
    - ``enabled`` (default true), ``salt`` (default: the experiment name; change it to
      reshuffle), ``bucket_by`` (an attribute to bucket on instead of the distinct id, such
      as ``"company_id"``), ``type`` (``$experiment_type``, default ``"ab_test"``), ``id``
      (``$experiment_id``), ``in_experiment`` (false for a plain rollout: shown, never
      exposed).

    Bucketing hashes (salt, bucketing id) with BLAKE2b, so a user gets the same variant in
    every process and on every host. Targeting is AND over conditions, short form
    ``{"plan": ["pro", "team"], "country": "DE"}`` or long form
    ``[{"attribute": "age", "gte": 18}]`` (operators ``equals``, ``not_equals``, ``in``,
    ``not_in``, ``exists``, ``gt``, ``gte``, ``lt``, ``lte``).

    >>> flags = StaticFlags({
    ...     "checkout_redesign": {"control": 50, "treatment": 50},
    ...     "new_nav": {"variants": {"on": 10, "off": 90}, "targeting": {"plan": "pro"},
    ...                 "overrides": {"qa-alice": "on"}},
    ... })
    >>> flags.evaluate("qa-alice", "new_nav", {}).variant
    'on'
    >>> flags.evaluate("user-42", "new_nav", {"plan": "free"}).reason
    'targeting'

    ``StaticFlags("flags.json")`` or ``StaticFlags.from_file("flags.yaml")`` read a file
    holding the same mapping (YAML needs PyYAML).
    """

    name = "static"

    def __init__(self, experiments: Mapping[str, Any] | str | os.PathLike[str]) -> None:
        if isinstance(experiments, (str, os.PathLike)):
            experiments = _load_file(Path(experiments))
        if not isinstance(experiments, Mapping):
            raise ConfigError(
                f"StaticFlags needs a mapping of experiment name to definition, got "
                f"{type(experiments).__name__}"
            )
        self._experiments = MappingProxyType(
            {str(name): _parse(str(name), spec) for name, spec in experiments.items()}
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> StaticFlags:
        """Read experiments from a ``.json``, ``.yaml`` or ``.yml`` file.

        >>> StaticFlags.from_file("flags.yaml")  # doctest: +SKIP
        """
        return cls(_load_file(Path(path)))

    @property
    def experiments(self) -> tuple[str, ...]:
        """The experiment names defined, in definition order."""
        return tuple(self._experiments)

    def variants(self, experiment: str) -> tuple[str, ...]:
        """The variant names of ``experiment`` (empty for an unknown experiment)."""
        spec = self._experiments.get(experiment)
        return tuple(name for name, _ in spec.weights) if spec else ()

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """Decide the variant: override, then enabled, targeting, holdout, weighted bucket."""
        spec = self._experiments.get(experiment)
        if spec is None:
            return Assignment(None, reason="unknown experiment")
        forced = spec.overrides.get(distinct_id)
        if forced is not None:
            return Assignment(
                forced,
                value=spec.values.get(forced),
                in_experiment=spec.in_experiment,
                reason="override",
                metadata={**spec.metadata, "$is_qa_tester": True},
            )
        if not spec.enabled:
            return Assignment(None, reason="disabled")
        if not all(condition.matches(attributes) for condition in spec.targeting):
            return Assignment(None, reason="targeting")
        unit = distinct_id if spec.bucket_by is None else attributes.get(spec.bucket_by)
        if unit is None or unit == "":
            return Assignment(None, reason=f"no {spec.bucket_by!r} attribute")
        unit = str(unit)
        # The holdout draws from its own hash so it does not skew the variant split.
        if spec.holdout and bucket("holdout", spec.salt, unit) * 100 < spec.holdout:
            return Assignment(None, reason="holdout")
        chosen = choose(spec.weights, bucket(spec.salt, unit))
        return Assignment(
            chosen,
            value=spec.values.get(chosen),
            in_experiment=spec.in_experiment,
            reason="bucketed",
            metadata=spec.metadata,
        )

    def __repr__(self) -> str:
        return f"StaticFlags({list(self._experiments)!r})"


def _load_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read flags file {str(path)!r}: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            # Imported by name so PyYAML stays optional and needs no type stubs.
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            raise ConfigError(
                f"flags file {str(path)!r} is YAML, which needs PyYAML: pip install pyyaml "
                "(or use a .json file)"
            ) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"flags file {str(path)!r} is not valid YAML: {exc}") from exc
    if suffix != ".json":
        raise ConfigError(f"flags file {str(path)!r} must end in .json, .yaml or .yml")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"flags file {str(path)!r} is not valid JSON: {exc}") from exc


def _is_weight(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse(name: str, spec: Any) -> _Experiment:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"experiment {name!r} must be a mapping, got {spec!r}")
    if "variants" not in spec:
        if spec and all(_is_weight(weight) for weight in spec.values()):
            spec = {"variants": spec}
        else:
            raise ConfigError(
                f"experiment {name!r} needs 'variants' (or a mapping of variant to weight), "
                f"got keys {sorted(spec)!r}"
            )
    unknown = set(spec) - _LONG_FORM_KEYS
    if unknown:
        raise ConfigError(
            f"experiment {name!r}: unknown keys {sorted(unknown)!r}; "
            f"allowed: {sorted(_LONG_FORM_KEYS)!r}"
        )
    weights, values = _parse_variants(name, spec["variants"])
    overrides = spec.get("overrides") or {}
    if not isinstance(overrides, Mapping) or any(
        variant not in values for variant in overrides.values()
    ):
        raise ConfigError(
            f"experiment {name!r}: overrides must map distinct ids to one of "
            f"{sorted(values)!r}, got {overrides!r}"
        )
    holdout = spec.get("holdout", 0)
    if not _is_weight(holdout) or not 0 <= holdout <= 100:
        raise ConfigError(f"experiment {name!r}: holdout must be a percent 0..100, got {holdout!r}")
    bucket_by = spec.get("bucket_by")
    if bucket_by is not None and not isinstance(bucket_by, str):
        raise ConfigError(f"experiment {name!r}: bucket_by must be an attribute name")
    metadata: dict[str, Any] = {}
    if "type" in spec:
        metadata["$experiment_type"] = str(spec["type"])
    if "id" in spec:
        metadata["$experiment_id"] = spec["id"]
    return _Experiment(
        name=name,
        weights=weights,
        values=MappingProxyType(values),
        targeting=parse_targeting(name, spec.get("targeting")),
        overrides=MappingProxyType({str(k): str(v) for k, v in overrides.items()}),
        holdout=float(holdout),
        enabled=bool(spec.get("enabled", True)),
        salt=str(spec.get("salt", name)),
        bucket_by=bucket_by,
        in_experiment=bool(spec.get("in_experiment", True)),
        metadata=MappingProxyType(metadata),
    )


def _parse_variants(
    name: str, variants: Any
) -> tuple[tuple[tuple[str, float], ...], dict[str, Any]]:
    if isinstance(variants, (list, tuple)):
        variants = {variant: 1 for variant in variants}
    if not isinstance(variants, Mapping) or not variants:
        raise ConfigError(f"experiment {name!r}: variants must be a non-empty mapping or list")
    weights: list[tuple[str, float]] = []
    values: dict[str, Any] = {}
    for variant, definition in variants.items():
        if not isinstance(variant, str) or not variant:
            raise ConfigError(f"experiment {name!r}: variant names must be non-empty str")
        if isinstance(definition, Mapping):
            weight = definition.get("weight", 1)
            value = definition.get("value", _BOOLEAN_NAMES.get(variant.lower()))
        else:
            weight, value = definition, _BOOLEAN_NAMES.get(variant.lower())
        if not _is_weight(weight) or weight < 0:
            raise ConfigError(
                f"experiment {name!r}: weight of variant {variant!r} must be a number >= 0, "
                f"got {weight!r}"
            )
        weights.append((variant, float(weight)))
        values[variant] = value
    if not any(weight > 0 for _, weight in weights):
        raise ConfigError(f"experiment {name!r}: at least one variant needs a weight above 0")
    return tuple(weights), values
