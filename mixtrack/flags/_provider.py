"""The contract between mixtrack and any flag system: one method, one result value.

A provider *evaluates*; it never records exposure. Exposure is decided later, when the
variant is really shown (see :mod:`mixtrack.exposure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import attrs

__all__ = ["Assignment", "FlagProvider"]


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _default_in_experiment(self: Assignment) -> bool:
    return self.variant is not None


@attrs.frozen
class Assignment:
    """What a provider decided for one user and one experiment.

    - ``variant``: the variant's name (``"treatment"``, ``"on"``), or ``None`` when the user
      is not in the experiment: unknown experiment, flag off, excluded by targeting or a
      holdout. ``None`` is never exposed and never counted.
    - ``value``: the payload the application uses (a colour, a JSON config); ``None`` if the
      provider has none.
    - ``in_experiment``: whether showing this variant is an experiment exposure. Defaults to
      ``variant is not None``; a provider sets it to ``False`` for a plain rollout or a
      targeting rule that serves a variant outside the experiment, so it is shown but not
      exposed.
    - ``reason``: a short word saying why (``"bucketed"``, ``"override"``, ``"targeting"``,
      ``"holdout"``, ``"unknown experiment"``); for logs and tests.
    - ``metadata``: extra properties put on the exposure event as they are, for example
      ``{"$experiment_id": "exp-1", "Rule id": "g1"}``. ``"$experiment_type"`` here replaces
      the default ``"ab_test"``; ``"$is_qa_tester": True`` marks a forced QA assignment.

    >>> Assignment("treatment", value="green", reason="bucketed").in_experiment
    True
    >>> Assignment(None, reason="holdout").in_experiment
    False
    """

    variant: str | None
    value: Any = None
    in_experiment: bool = attrs.field(
        default=attrs.Factory(_default_in_experiment, takes_self=True)
    )
    reason: str = ""
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)

    def __attrs_post_init__(self) -> None:
        if self.variant is not None and not isinstance(self.variant, str):
            raise TypeError(f"Assignment.variant must be a str or None, got {self.variant!r}")
        if self.variant is None and self.in_experiment:
            raise ValueError("an Assignment without a variant cannot be in the experiment")


@runtime_checkable
class FlagProvider(Protocol):
    """Anything that can say which variant a user gets. mixtrack calls nothing else.

    ``name`` is sent on every exposure as the ``Flag provider`` property. ``evaluate``
    must be side-effect free as far as exposure goes: no exposure or "viewed" event of the
    provider's own (mixtrack sends the exposure when the variant is shown). It should not
    raise for an unknown experiment or a user outside it: return ``Assignment(None, ...)``.
    ``attributes`` is always a mapping (empty when the caller gave none).

    Wrapping an in-house flag system takes a dozen lines::

        from mixtrack.flags import Assignment

        class InHouseFlags:
            name = "inhouse"

            def __init__(self, service):
                self.service = service

            def evaluate(self, distinct_id, experiment, attributes):
                bucket = self.service.bucket_for(experiment, user=distinct_id, **attributes)
                if bucket is None:
                    return Assignment(None, reason="not enrolled")
                return Assignment(bucket.name, value=bucket.payload, reason="bucketed",
                                  metadata={"$experiment_id": bucket.experiment_id})
    """

    @property
    def name(self) -> str:
        """Short provider name, e.g. ``"static"``, ``"launchdarkly"``."""
        ...

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """Decide the variant of ``experiment`` for ``distinct_id``; never expose."""
        ...
