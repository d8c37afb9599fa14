"""PostHog feature flags: local evaluation of multivariate flags, exposed by mixtrack.

PostHog's SDK captures ``$feature_flag_called`` the first time a client reads a flag for
a distinct id and value (``get_feature_flag``, ``get_feature_flag_result``,
``feature_enabled``), whether or not the variant is then shown; a remotely evaluated
experiment may also capture ``$experiment_exposure``. PostHog's experiment results count
those. :class:`PostHogFlags` reads with ``send_feature_flag_events=False`` and
``only_evaluate_locally=True``: no event is captured and no request is made at
evaluation; mixtrack sends ``$experiment_started`` when the variant is rendered.

Local evaluation needs flag definitions: a ``secret_key`` so the client polls them, or
a ``flag_definition_cache_provider`` serving them from your own cache.

>>> ph = Posthog("phc_...", secret_key="phs_...")  # doctest: +SKIP
>>> Experiments(client, PostHogFlags(ph)).variant("user-42", "checkout").name
... # doctest: +SKIP
'test'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixtrack.flags import Assignment
from mixtrack_flags._common import require

require("posthog", extra="posthog", package="posthog")

from posthog import Posthog  # noqa: E402

__all__ = ["PostHogFlags"]


class PostHogFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over a PostHog client's local evaluation.

    The attributes are the person properties the flag's conditions use; ``groups`` and
    ``group_properties`` are passed as given for group-based flags.

    A multivariate flag's variant key is the variant name, unchanged, and its payload
    the value. A boolean flag that is on is served as ``"on"`` but is no experiment
    exposure (PostHog experiments are multivariate). A flag that is off for the user,
    unknown, or not evaluable locally (it needs properties that were not given, or a
    cohort only the server knows) is "not in experiment": the adapter never falls back
    to a remote call.

    >>> flags = PostHogFlags(ph)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).value  # doctest: +SKIP
    {'color': 'green'}
    """

    def __init__(
        self,
        client: Posthog,
        *,
        groups: Mapping[str, str] | None = None,
        group_properties: Mapping[str, Mapping[str, Any]] | None = None,
        name: str = "posthog",
    ) -> None:
        self.client = client
        self.groups = dict(groups or {})
        self.group_properties = {k: dict(v) for k, v in (group_properties or {}).items()}
        self._name = name

    @property
    def name(self) -> str:
        """``"posthog"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """Evaluate the flag ``experiment`` locally; PostHog captures nothing.

        >>> flags.evaluate("user-42", "checkout", {}).variant  # doctest: +SKIP
        'control'
        """
        result = self.client.get_feature_flag_result(
            experiment,
            distinct_id,
            groups=self.groups or None,
            person_properties=dict(attributes),
            group_properties=self.group_properties or None,
            only_evaluate_locally=True,
            send_feature_flag_events=False,
        )
        if result is None:
            return Assignment(None, reason="not evaluated locally")
        reason = getattr(result, "reason", None)  # not in older SDKs
        if not result.enabled:
            return Assignment(None, value=result.payload, reason=reason or "off")
        if result.variant is None:
            return Assignment(
                "on", value=result.payload, in_experiment=False, reason=reason or "on"
            )
        return Assignment(result.variant, value=result.payload, reason=reason or "variant")

    def __repr__(self) -> str:
        return "PostHogFlags()"
