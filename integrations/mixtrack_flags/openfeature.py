"""OpenFeature: variants from any OpenFeature provider, through an OpenFeature client.

OpenFeature hooks run on every evaluation, with no notion of "shown" or of "once": they
are the wrong place for an exposure. :class:`OpenFeatureFlags` wraps the client instead,
so the evaluation stays a plain read and mixtrack sends ``$experiment_started`` when the
variant is rendered.

>>> from openfeature import api  # doctest: +SKIP
>>> flags = OpenFeatureFlags(api.get_client())  # doctest: +SKIP
>>> Experiments(client, flags).variant("user-42", "checkout").name  # doctest: +SKIP
'treatment'
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal

from mixtrack.flags import Assignment
from mixtrack_flags._common import require

require("openfeature", extra="openfeature", package="openfeature-sdk")

from openfeature import api  # noqa: E402
from openfeature.client import OpenFeatureClient  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from openfeature.flag_evaluation import FlagEvaluationDetails  # noqa: E402

__all__ = ["DEFAULT_EXCLUDED_REASONS", "OpenFeatureFlags"]

FlagKind = Literal["string", "boolean", "integer", "float", "object"]

DEFAULT_EXCLUDED_REASONS: frozenset[str] = frozenset({"DISABLED", "ERROR"})
"""OpenFeature reasons whose variant is shown but is no experiment exposure."""

_DEFAULTS: dict[str, Any] = {"string": "", "boolean": False, "integer": 0, "float": 0.0}


def _reason(details: FlagEvaluationDetails[Any]) -> str:
    reason = details.reason
    if reason is None:
        return "UNKNOWN"
    return str(getattr(reason, "value", reason))


class OpenFeatureFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over an OpenFeature client.

    - ``client``: an ``OpenFeatureClient`` (default: ``openfeature.api.get_client()``, the
      global default provider).
    - ``kind``: which typed method resolves the flag (``"string"`` by default, or
      ``"boolean"``, ``"integer"``, ``"float"``, ``"object"``); ``default`` is the value
      passed as the OpenFeature default.
    - ``excluded_reasons``: resolution reasons that are not experiment exposures
      (default ``DISABLED`` and ``ERROR``); the variant is still served.

    The variant name is the resolution's ``variant``, unchanged; a resolution without a
    variant or with an error code is "not in experiment". The distinct id becomes the
    evaluation context's ``targeting_key`` and the attributes its attributes. The flag's
    ``flag_metadata`` goes into the exposure as it is, with ``OpenFeature reason``.

    >>> flags = OpenFeatureFlags(api.get_client("shop"), kind="string")  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).variant  # doctest: +SKIP
    'treatment'
    """

    def __init__(
        self,
        client: OpenFeatureClient | None = None,
        *,
        kind: FlagKind = "string",
        default: Any = None,
        excluded_reasons: Collection[str] = DEFAULT_EXCLUDED_REASONS,
        name: str = "openfeature",
    ) -> None:
        if kind not in (*_DEFAULTS, "object"):
            raise ValueError(
                f"kind must be one of string, boolean, integer, float, object; got {kind!r}"
            )
        self.client = client if client is not None else api.get_client()
        self.kind = kind
        self.default = default if default is not None else _DEFAULTS.get(kind, {})
        self.excluded_reasons = frozenset(excluded_reasons)
        self._name = name
        self._resolve: Callable[..., FlagEvaluationDetails[Any]] = getattr(
            self.client, f"get_{kind}_details"
        )

    @property
    def name(self) -> str:
        """``"openfeature"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """Resolve ``experiment`` for ``distinct_id``; hooks run, no exposure is sent.

        >>> flags.evaluate("user-42", "checkout", {}).reason  # doctest: +SKIP
        'TARGETING_MATCH'
        """
        context = EvaluationContext(targeting_key=distinct_id, attributes=dict(attributes))
        details = self._resolve(experiment, self.default, context)
        reason = _reason(details)
        if details.error_code is not None:
            code = getattr(details.error_code, "value", details.error_code)
            return Assignment(None, value=details.value, reason=f"error: {code}")
        if details.variant is None:
            return Assignment(None, value=details.value, reason=reason)
        metadata: dict[str, Any] = dict(details.flag_metadata or {})
        metadata["OpenFeature reason"] = reason
        return Assignment(
            details.variant,
            value=details.value,
            in_experiment=reason not in self.excluded_reasons,
            reason=reason,
            metadata=metadata,
        )

    def __repr__(self) -> str:
        return f"OpenFeatureFlags(kind={self.kind!r})"
