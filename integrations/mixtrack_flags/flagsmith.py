"""Flagsmith: multivariate options from identity flags, exposed by mixtrack.

Flagsmith records an experiment exposure only through ``get_experiment_flag``, which
evaluates and records in one call (and needs events enabled, so not offline). The
adapter never calls it: it reads ``get_identity_flags(...).get_flag(...)``, which records
no exposure; with ``enable_analytics=True`` Flagsmith still counts each read for its flag
analytics (per feature, not per user). Use local evaluation or offline mode: in remote
mode every ``get_identity_flags`` is an API call that also stores the traits.

>>> fs = Flagsmith(offline_mode=True, offline_handler=LocalFileHandler("env.json"))
... # doctest: +SKIP
>>> Experiments(client, FlagsmithFlags(fs)).variant("user-42", "checkout").name
... # doctest: +SKIP
'treatment'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixtrack.flags import Assignment
from mixtrack_flags._common import require

require("flagsmith", extra="flagsmith", package="flagsmith")

from flagsmith import Flagsmith  # noqa: E402
from flagsmith.exceptions import FlagsmithFeatureDoesNotExistError  # noqa: E402
from flagsmith.models import Flag  # noqa: E402

__all__ = ["FlagsmithFlags"]


class FlagsmithFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over a ``Flagsmith`` client.

    The distinct id is the Flagsmith identity and the attributes its traits (``transient``
    by default, so a remote-mode read does not store them). The variant name is the
    multivariate option's key, unchanged.

    Who is in the experiment: when Flagsmith reports experiment metadata for the flag,
    its ``in_experiment``; otherwise an identity whose option came from the percentage
    split (reason ``SPLIT...``). An identity outside the allocated percentages gets the
    flag's own value (reason ``STATIC``): shown, not exposed. A disabled flag, a flag
    without options or an unknown feature is "not in experiment".

    The exposure carries ``Flagsmith reason``, ``Feature id`` and, when Flagsmith knows
    the experiment, ``$experiment_id`` and ``Flagsmith experiment``.

    >>> flags = FlagsmithFlags(fs)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).value  # doctest: +SKIP
    'green'
    """

    def __init__(
        self, client: Flagsmith, *, transient: bool = True, name: str = "flagsmith"
    ) -> None:
        self.client = client
        self.transient = transient
        self._name = name

    @property
    def name(self) -> str:
        """``"flagsmith"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """The identity's flag for ``experiment``; Flagsmith records no exposure.

        >>> flags.evaluate("user-42", "checkout", {}).metadata["Flagsmith reason"]
        ... # doctest: +SKIP
        'SPLIT; weight=50'
        """
        identity_flags = self.client.get_identity_flags(
            distinct_id, dict(attributes), transient=self.transient
        )
        try:
            flag = identity_flags.get_flag(experiment)
        except FlagsmithFeatureDoesNotExistError:
            return Assignment(None, reason="unknown feature")
        if not isinstance(flag, Flag):  # served by a default_flag_handler
            return Assignment(None, value=flag.value, reason="default flag")
        if not flag.enabled:
            return Assignment(None, value=flag.value, reason="disabled")
        reason = flag.reason or ""
        if flag.variant is None:
            return Assignment(None, value=flag.value, reason=reason or "no variant")
        metadata: dict[str, Any] = {"Flagsmith reason": reason, "Feature id": flag.feature_id}
        if flag.experiment is not None:
            metadata["$experiment_id"] = flag.experiment.id
            metadata["Flagsmith experiment"] = flag.experiment.name
            in_experiment = flag.experiment.in_experiment
        else:
            in_experiment = reason.startswith("SPLIT")
        return Assignment(
            flag.variant,
            value=flag.value,
            in_experiment=in_experiment,
            reason=reason,
            metadata=metadata,
        )

    def __repr__(self) -> str:
        return f"FlagsmithFlags(offline={self.client.offline_mode})"
