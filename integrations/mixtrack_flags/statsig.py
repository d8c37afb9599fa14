"""Statsig (``statsig-python-core``): experiment groups without Statsig's exposure at
evaluation; mixtrack exposes at render, and can tell Statsig then too.

``Statsig.get_experiment`` logs a ``statsig::config_exposure`` for each evaluation
(deduplicated by the SDK within a bounded window), whether or not the group is shown.
:class:`StatsigFlags` evaluates with ``ExperimentEvaluationOptions(
disable_exposure_logging=True)``: Statsig logs no exposure then. If Statsig's own
experiment results must keep working, wire :meth:`StatsigFlags.tracker`: it sends the
mixtrack exposure and then ``manually_log_experiment_exposure`` for the same user, once,
when the variant is rendered (on commit inside a request scope).

>>> statsig = Statsig("secret-key"); statsig.initialize().wait()  # doctest: +SKIP
>>> flags = StatsigFlags(statsig)  # doctest: +SKIP
>>> experiments = Experiments(flags.tracker(client), flags)  # Statsig counts renders too
... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixtrack.exposure import Tracker
from mixtrack.flags import Assignment
from mixtrack_flags._common import (
    ExposureHookTracker,
    RecentUsers,
    require,
    statsig_user_fields,
)

require("statsig_python_core", extra="statsig", package="statsig-python-core")

from statsig_python_core import (  # noqa: E402
    ExperimentEvaluationOptions,
    Statsig,
    StatsigUser,
)

__all__ = ["StatsigFlags"]

_SILENT = ExperimentEvaluationOptions(disable_exposure_logging=True)


class StatsigFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over an initialized ``Statsig`` instance.

    The distinct id is the ``StatsigUser``'s ``user_id``; attributes named like Statsig's
    user fields (``email``, ``ip``, ``country``, ``locale``, ``app_version``,
    ``user_agent``, ``custom_ids``, ``private_attributes``) fill them, the others go to
    ``custom``.

    The variant name is the experiment group's name, unchanged; the value is the group's
    parameters (a dict). A user the experiment does not allocate, an experiment that is
    off or unknown, or an override without a group is "not in experiment". The exposure
    carries ``Rule id`` (the group id), ``Statsig reason`` and ``Id type``.

    >>> flags = StatsigFlags(statsig)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout_exp", {"plan": "pro"}).value  # doctest: +SKIP
    {'color': 'green'}
    """

    def __init__(self, statsig: Statsig, *, name: str = "statsig") -> None:
        self.statsig = statsig
        self._name = name
        self._users = RecentUsers()

    @property
    def name(self) -> str:
        """``"statsig"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    @staticmethod
    def user(distinct_id: str, attributes: Mapping[str, Any]) -> StatsigUser:
        """The ``StatsigUser`` evaluated for ``distinct_id``."""
        return StatsigUser(**statsig_user_fields(distinct_id, attributes))

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """``get_experiment`` with exposure logging disabled.

        >>> flags.evaluate("user-42", "checkout_exp", {}).variant  # doctest: +SKIP
        'treatment'
        """
        user = self.user(distinct_id, attributes)
        result = self.statsig.get_experiment(user, experiment, _SILENT)
        reason = result.details.reason if result.details is not None else ""
        if not result.group_name:
            return Assignment(None, value=dict(result.value or {}), reason=reason or "no group")
        self._users.put(distinct_id, experiment, user)
        return Assignment(
            result.group_name,
            value=dict(result.value or {}),
            reason=reason,
            metadata={"Rule id": result.rule_id, "Statsig reason": reason,
                      "Id type": result.id_type},
        )  # fmt: skip

    def on_expose(
        self, distinct_id: str, experiment: str, properties: Mapping[str, Any] | None = None
    ) -> None:
        """Log Statsig's own exposure now, for the user the variant was evaluated for.

        Called by :meth:`tracker` right after mixtrack sends an exposure; call it
        yourself if you wire exposure differently.

        >>> flags.on_expose("user-42", "checkout_exp")  # doctest: +SKIP
        """
        user = self._users.get(distinct_id, experiment) or StatsigUser(user_id=distinct_id)
        self.statsig.manually_log_experiment_exposure(user, experiment)

    def tracker(self, client: Tracker) -> ExposureHookTracker:
        """``client``, plus Statsig's exposure after each of this provider's exposures.

        >>> experiments = Experiments(flags.tracker(client), flags)  # doctest: +SKIP
        """
        return ExposureHookTracker(client, self.on_expose, only_provider=self.name)

    def __repr__(self) -> str:
        return "StatsigFlags()"
