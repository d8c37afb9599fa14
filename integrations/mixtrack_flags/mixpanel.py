"""Mixpanel's own feature flags (``mixpanel.flags``), with exposure sent by mixtrack.

``get_variant`` in the ``mixpanel`` package tracks ``$experiment_started`` on every
call that selects a variant (``report_exposure=True`` is its default), with no
deduplication: evaluating a flag on each request, or for a page that is never shown,
counts again. :class:`MixpanelFlags` evaluates with ``report_exposure=False`` and
mixtrack sends the same event, once per person and experiment, when the variant is
rendered; its properties (``$experiment_id``, ``$is_experiment_active``,
``$is_qa_tester``, ``$experiment_type``) match what the SDK itself would send.

>>> mp = Mixpanel("token", local_flags_config=LocalFlagsConfig())  # doctest: +SKIP
>>> mp.local_flags.start_polling_for_definitions()  # doctest: +SKIP
>>> Experiments(client, MixpanelFlags(mp.local_flags)).variant("user-42", "checkout").name
... # doctest: +SKIP
'treatment'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mixtrack.flags import Assignment
from mixtrack_flags._common import require

require("mixpanel.flags", package="mixpanel>=5.4")

from mixpanel.flags.types import SelectedVariant, VariantSource  # noqa: E402

__all__ = ["MixpanelFlags", "VariantSelector"]


class VariantSelector(Protocol):
    """What the adapter calls: ``mixpanel``'s local or remote flags provider."""

    def get_variant(
        self,
        flag_key: str,
        fallback_value: SelectedVariant,
        context: dict[str, Any],
        report_exposure: bool = True,
    ) -> SelectedVariant: ...


class MixpanelFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over ``Mixpanel(...).local_flags`` (or
    ``remote_flags``: the same call, one request per evaluation).

    The context is ``{"distinct_id": distinct_id, "custom_properties": attributes}``; an
    attribute named in ``context_keys`` (``device_id`` by default, for flags whose
    rollout context is the device) goes to the top level instead. The variant key is the
    variant name, unchanged, and the variant value the value. A fallback (unknown flag,
    missing context key, no rollout matched, definitions not loaded) is "not in
    experiment", with the fallback's kind as the reason.

    >>> flags = MixpanelFlags(mp.local_flags)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).metadata["$experiment_id"]
    ... # doctest: +SKIP
    'exp-1'
    """

    def __init__(
        self,
        flags: VariantSelector,
        *,
        context_keys: frozenset[str] = frozenset({"device_id"}),
        name: str = "mixpanel",
    ) -> None:
        self.flags = flags
        self.context_keys = context_keys
        self._name = name

    @property
    def name(self) -> str:
        """``"mixpanel"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    def context(self, distinct_id: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """The evaluation context passed to ``get_variant``.

        >>> MixpanelFlags(None).context("u1", {"plan": "pro", "device_id": "d1"})
        {'distinct_id': 'u1', 'custom_properties': {'plan': 'pro'}, 'device_id': 'd1'}
        """
        context: dict[str, Any] = {"distinct_id": distinct_id, "custom_properties": {}}
        for key, value in attributes.items():
            if key in self.context_keys:
                context[key] = value
            else:
                context["custom_properties"][key] = value
        return context

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """``get_variant(..., report_exposure=False)``: Mixpanel's SDK tracks nothing.

        >>> flags.evaluate("user-42", "checkout", {}).variant  # doctest: +SKIP
        'treatment'
        """
        selected = self.flags.get_variant(
            experiment,
            SelectedVariant(variant_value=None),
            self.context(distinct_id, attributes),
            report_exposure=False,
        )
        source = getattr(selected, "variant_source", None)
        if source == VariantSource.FALLBACK or selected.variant_key is None:
            reason = getattr(selected, "fallback_reason", None)
            kind = getattr(reason, "kind", None) or "fallback"
            return Assignment(None, reason=str(kind).lower())
        metadata: dict[str, Any] = {"$experiment_type": "feature_flag"}
        optional = {
            "$experiment_id": selected.experiment_id,
            "$is_experiment_active": selected.is_experiment_active,
            "$is_qa_tester": selected.is_qa_tester,
        }
        metadata.update({k: v for k, v in optional.items() if v is not None})
        return Assignment(
            selected.variant_key,
            value=selected.variant_value,
            reason="qa tester" if selected.is_qa_tester else "bucketed",
            metadata=metadata,
        )

    def __repr__(self) -> str:
        return f"MixpanelFlags({type(self.flags).__name__})"
