"""GrowthBook: variants from GrowthBook's feature rules, exposed by mixtrack.

GrowthBook calls ``on_experiment_viewed`` while a feature is *evaluated*, and remembers
what it tracked only inside one ``GrowthBook`` instance, so an app that makes one per
request fires it again on every request. :class:`GrowthBookFlags` evaluates with a fresh
instance per call that has no ``on_experiment_viewed`` (and no deferred-tracking buffer):
GrowthBook tracks nothing, and mixtrack sends ``$experiment_started`` when the variant is
shown.

>>> flags = GrowthBookFlags(features)  # the "features" of a GrowthBook SDK payload
... # doctest: +SKIP
>>> Experiments(client, flags).variant("user-42", "checkout").name  # doctest: +SKIP
'treatment'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mixtrack.flags import Assignment
from mixtrack_flags._common import require

require("growthbook", extra="growthbook", package="growthbook")

from growthbook import GrowthBook  # noqa: E402

__all__ = ["GrowthBookFlags"]

_NOT_ALLOWED = ("on_experiment_viewed", "trackingCallback", "defer_tracking", "client_key")


class GrowthBookFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over GrowthBook features.

    - ``features``: the ``features`` mapping of a GrowthBook SDK payload, or a callable
      returning the current one (for definitions you refresh yourself).
    - ``id_attribute``: the attribute set to the distinct id (``"id"``, GrowthBook's
      default hash attribute); the other attributes are passed as they are.
    - ``options``: more ``GrowthBook(...)`` arguments (``saved_groups``,
      ``forced_variations``, ``sticky_bucket_service``, ``qa_mode``...). Tracking
      callbacks, deferred tracking and ``client_key`` (network fetches) are refused.

    The variant name is the experiment result's ``key``: the variation's ``meta`` key
    when the rule has one, else its index as a string. A feature served by a default
    value or a force rule is "not in experiment" (the value is still there). The
    exposure carries ``$experiment_id`` (the experiment key), ``Variation id``,
    ``Hash attribute``, ``Hash used`` and ``Rule id``. A forced variation
    (``forced_variations``, a QA override: ``hashUsed`` False) is served but, as in
    GrowthBook's own tracking, not exposed.

    >>> flags = GrowthBookFlags(features, saved_groups=groups)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).metadata["$experiment_id"]
    ... # doctest: +SKIP
    'exp-checkout'
    """

    def __init__(
        self,
        features: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        *,
        id_attribute: str = "id",
        name: str = "growthbook",
        **options: Any,
    ) -> None:
        refused = [key for key in _NOT_ALLOWED if key in options]
        if refused:
            raise ValueError(
                f"GrowthBookFlags does not take {', '.join(refused)}: GrowthBook would track "
                "exposures at evaluation (or fetch features); mixtrack exposes at render"
            )
        self._features = features
        self.id_attribute = id_attribute
        self.options = options
        self._name = name

    @property
    def name(self) -> str:
        """``"growthbook"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    def features(self) -> dict[str, Any]:
        """The feature definitions in use now."""
        features = self._features() if callable(self._features) else self._features
        return dict(features)

    def growthbook(self, distinct_id: str, attributes: Mapping[str, Any]) -> GrowthBook:
        """A GrowthBook instance for one user, with no tracking callback.

        >>> flags.growthbook("user-42", {}).eval_feature("checkout").source  # doctest: +SKIP
        'experiment'
        """
        return GrowthBook(
            attributes={**attributes, self.id_attribute: distinct_id},
            features=self.features(),
            **self.options,
        )

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """``eval_feature(experiment)`` for ``distinct_id``; GrowthBook tracks nothing.

        >>> flags.evaluate("user-42", "checkout", {}).variant  # doctest: +SKIP
        'treatment'
        """
        # No destroy(): without a client_key there is nothing to stop, and destroy() would
        # clear the caller's forced_variations mapping, which GrowthBook holds by reference.
        result = self.growthbook(distinct_id, attributes).eval_feature(experiment)
        found = result.experimentResult
        if result.source != "experiment" or found is None or result.experiment is None:
            return Assignment(None, value=result.value, reason=result.source)
        metadata: dict[str, Any] = {
            "$experiment_id": result.experiment.key,
            "Variation id": found.variationId,
            "Hash attribute": found.hashAttribute,
            "Hash used": found.hashUsed,
        }
        rule_id = getattr(result, "ruleId", None)  # not in older SDKs
        if rule_id:
            metadata["Rule id"] = rule_id
        # GrowthBook itself does not track a forced variation (hashUsed False) or a
        # passthrough: shown, not counted.
        return Assignment(
            found.key,
            value=result.value,
            in_experiment=bool(found.inExperiment and found.hashUsed and not found.passthrough),
            reason="bucketed" if found.hashUsed else "forced",
            metadata=metadata,
        )

    def __repr__(self) -> str:
        return f"GrowthBookFlags(id_attribute={self.id_attribute!r})"
