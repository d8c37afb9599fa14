"""Unleash: variants from ``UnleashClient.get_variant``, exposed by mixtrack.

Unleash sends no per-user exposure of its own. Two things happen on every evaluation,
whether the variant is shown or not: usage metrics (aggregated yes/no and per-variant
counts per toggle, posted by the client unless ``disable_metrics=True``), and, for a
toggle with "impression data" on, an impression event handed to your
``event_callback``. Neither can be switched off per call: the adapter leaves them alone.
Don't turn impression events into Mixpanel exposures (they fire at evaluation, every
time); mixtrack sends ``$experiment_started`` when the variant is rendered.

>>> unleash = UnleashClient(url, "shop", disable_metrics=True)  # doctest: +SKIP
>>> unleash.initialize_client()  # doctest: +SKIP
>>> Experiments(client, UnleashFlags(unleash)).variant("user-42", "checkout").name
... # doctest: +SKIP
'treatment'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mixtrack.flags import Assignment
from mixtrack_flags._common import require

require("UnleashClient", extra="unleash", package="UnleashClient")

from UnleashClient import UnleashClient  # type: ignore[attr-defined]  # noqa: E402

__all__ = ["CONTEXT_FIELDS", "UnleashFlags"]

CONTEXT_FIELDS = frozenset({"sessionId", "remoteAddress", "environment", "appName", "currentTime"})
"""Attributes that go to Unleash's context as they are; all others become properties."""


def _property(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _payload_value(payload: Mapping[str, Any] | None) -> Any:
    if not payload:
        return None
    value = payload.get("value")
    if payload.get("type") == "json" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class UnleashFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over an initialized ``UnleashClient``.

    The distinct id is the context's ``userId`` (what ``stickiness: userId`` and the
    default stickiness hash); attributes named in :data:`CONTEXT_FIELDS` go to the
    context, the others to ``properties`` (as strings, which is what Unleash compares).

    A toggle that is off, unknown, or on without a variant for this user (Unleash's
    ``"disabled"`` variant) is "not in experiment". Otherwise the variant name is
    Unleash's, unchanged, and the value is its payload (``json`` payloads parsed).

    >>> flags = UnleashFlags(unleash)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).value  # doctest: +SKIP
    'green'
    """

    def __init__(self, client: UnleashClient, *, name: str = "unleash") -> None:
        self.client = client
        self._name = name

    @property
    def name(self) -> str:
        """``"unleash"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    @staticmethod
    def context(distinct_id: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """The Unleash context for ``distinct_id``.

        >>> UnleashFlags.context("user-42", {"plan": "pro", "sessionId": "s1"})
        {'userId': 'user-42', 'properties': {'plan': 'pro'}, 'sessionId': 's1'}
        """
        context: dict[str, Any] = {"userId": distinct_id, "properties": {}}
        for key, value in attributes.items():
            if key in CONTEXT_FIELDS:
                context[key] = value
            else:
                context["properties"][key] = _property(value)
        return context

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """``get_variant(experiment)`` for ``distinct_id``; no exposure is sent.

        >>> flags.evaluate("user-42", "checkout", {}).variant  # doctest: +SKIP
        'treatment'
        """
        variant = self.client.get_variant(experiment, self.context(distinct_id, attributes))
        if not variant.get("feature_enabled", variant.get("enabled", False)):
            return Assignment(None, reason="toggle off")
        name = variant.get("name")
        if not variant.get("enabled") or not name or name == "disabled":
            return Assignment(None, reason="no variant")
        return Assignment(
            str(name),
            value=_payload_value(variant.get("payload")),
            reason="variant",
        )

    def __repr__(self) -> str:
        return f"UnleashFlags({self.client.unleash_app_name!r})"
