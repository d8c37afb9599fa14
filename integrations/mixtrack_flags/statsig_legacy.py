"""Statsig's legacy Python SDK (``statsig``): the same adapter as :mod:`.statsig`.

``get_experiment`` in the legacy SDK logs ``statsig::config_exposure`` at evaluation
(deduplicated per process for about a minute). :class:`StatsigLegacyFlags` evaluates with
``log_exposure=False`` (``get_experiment_with_exposure_logging_disabled`` on the
module-level API) and, through :meth:`StatsigLegacyFlags.tracker`, can log Statsig's
exposure with ``manually_log_experiment_exposure`` when mixtrack exposes, at render.

>>> server = StatsigServer(); server.initialize("secret-key")  # doctest: +SKIP
>>> flags = StatsigLegacyFlags(server)  # doctest: +SKIP
>>> experiments = Experiments(flags.tracker(client), flags)  # doctest: +SKIP
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

require("statsig", package="statsig")

from statsig import StatsigUser, statsig  # noqa: E402
from statsig.statsig_server import StatsigServer  # noqa: E402

__all__ = ["StatsigLegacyFlags"]


class StatsigLegacyFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over the legacy ``statsig`` SDK.

    ``server`` is an initialized ``StatsigServer``; without one, the SDK's module-level
    API (``statsig.initialize(...)``) is used. Users, names, values and metadata are as in
    :class:`mixtrack_flags.statsig.StatsigFlags`.

    >>> flags = StatsigLegacyFlags()  # after statsig.initialize(...)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout_exp", {}).variant  # doctest: +SKIP
    'treatment'
    """

    def __init__(self, server: StatsigServer | None = None, *, name: str = "statsig") -> None:
        self.server = server
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

    def _get(self, user: StatsigUser, experiment: str) -> Any:
        if self.server is None:
            return statsig.get_experiment_with_exposure_logging_disabled(user, experiment)
        return self.server.get_experiment(user, experiment, log_exposure=False)

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """The experiment group, with the SDK's exposure logging off for this call.

        >>> flags.evaluate("user-42", "checkout_exp", {}).value  # doctest: +SKIP
        {'color': 'green'}
        """
        user = self.user(distinct_id, attributes)
        config = self._get(user, experiment)
        details = config.get_evaluation_details()
        reason = str(getattr(details, "reason", "") or "")
        value = dict(config.get_value() or {})
        group = getattr(config, "group_name", None)
        if not group:
            return Assignment(None, value=value, reason=reason or "no group")
        self._users.put(distinct_id, experiment, user)
        return Assignment(
            group,
            value=value,
            reason=reason,
            metadata={"Rule id": config.rule_id, "Statsig reason": reason},
        )

    def on_expose(
        self, distinct_id: str, experiment: str, properties: Mapping[str, Any] | None = None
    ) -> None:
        """Log Statsig's own exposure now, for the user the variant was evaluated for.

        >>> flags.on_expose("user-42", "checkout_exp")  # doctest: +SKIP
        """
        user = self._users.get(distinct_id, experiment) or StatsigUser(user_id=distinct_id)
        if self.server is None:
            statsig.manually_log_experiment_exposure(user, experiment)
        else:
            self.server.manually_log_experiment_exposure(user, experiment)

    def tracker(self, client: Tracker) -> ExposureHookTracker:
        """``client``, plus Statsig's exposure after each of this provider's exposures.

        >>> experiments = Experiments(flags.tracker(client), flags)  # doctest: +SKIP
        """
        return ExposureHookTracker(client, self.on_expose, only_provider=self.name)

    def __repr__(self) -> str:
        return "StatsigLegacyFlags()"
