"""LaunchDarkly: variants from ``LDClient.variation_detail``, exposed by mixtrack.

LaunchDarkly's SDK has no per-call switch for its own analytics: every ``variation*``
call is counted in the summary it sends, and an evaluation that is part of an experiment
(``reason["inExperiment"]``) or of a rule with "track events" on is also sent as a full
feature event, which is what LaunchDarkly's own experiment results count. All of that
happens at evaluation time, whether or not the variant is shown. Configure the client
with ``send_events=False`` when Mixpanel is where experiments are analysed; keep events
on only if LaunchDarkly's own results and flag insights must keep working too, knowing
they count evaluations, not renders.

>>> import ldclient  # doctest: +SKIP
>>> ld = ldclient.LDClient(ldclient.Config("sdk-key", send_events=False))  # doctest: +SKIP
>>> flags = LaunchDarklyFlags(ld, variation_names={"checkout": ["control", "treatment"]})
... # doctest: +SKIP
>>> Experiments(client, flags).variant("user-42", "checkout").name  # doctest: +SKIP
'treatment'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mixtrack.flags import Assignment
from mixtrack_flags._common import require, variant_name

require("ldclient", extra="launchdarkly", package="launchdarkly-server-sdk")

from ldclient import Context, LDClient  # noqa: E402

__all__ = ["LaunchDarklyFlags", "variation_names_from_flags"]

VariationNames = Mapping[str, Sequence[str] | Mapping[int, str]]
"""Per flag key: the variation names in index order, or a mapping of index to name."""


def variation_names_from_flags(flags: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Variation names from flags as LaunchDarkly's REST API describes them.

    The SDK's flag data holds variation *values* only; names live in the flag's
    description (``GET /api/v2/flags/{project}``, or an export of it), where each
    variation is ``{"value": ..., "name": ...}``. A variation without a name is named
    after its value when that is a string, else after its index.

    >>> variation_names_from_flags([{"key": "checkout", "variations": [
    ...     {"value": {"c": "blue"}, "name": "control"},
    ...     {"value": {"c": "green"}, "name": "Green button"}]}])
    {'checkout': ['control', 'Green button']}
    """
    names: dict[str, list[str]] = {}
    for flag in flags:
        key = flag["key"]
        names[key] = [
            str(v.get("name") or variant_name(v.get("value")) or index)
            for index, v in enumerate(flag.get("variations", []))
        ]
    return names


class LaunchDarklyFlags:
    """A :class:`~mixtrack.flags.FlagProvider` over a LaunchDarkly ``LDClient``.

    - ``client``: a started ``LDClient`` (``send_events=False`` recommended; see the
      module docs for what LaunchDarkly counts otherwise).
    - ``variation_names``: names per flag, by variation index (see :data:`VariationNames`
      and :func:`variation_names_from_flags`). Without one, a string variation is named
      by its value, a boolean ``on``/``off``, a number by its digits, and anything else by
      its index (``"0"``, ``"1"``).
    - ``context_kind``: the kind of the context built from the distinct id (``"user"``);
      the attributes become its attributes (``name`` and ``anonymous`` included).
    - ``experiments_only`` (default True): only evaluations LaunchDarkly marks
      ``inExperiment`` are exposures; others (targets, rules, rollouts, flag off) are
      served but not exposed. With False, every evaluation that picked a variation
      except an ``OFF`` flag is an exposure.
    - ``default``: the value served when LaunchDarkly cannot evaluate.

    The exposure carries ``LaunchDarkly reason``, ``Variation index`` and, for a rule,
    ``Rule id``.

    >>> flags = LaunchDarklyFlags(ld)  # doctest: +SKIP
    >>> flags.evaluate("user-42", "checkout", {"plan": "pro"}).metadata["Variation index"]
    ... # doctest: +SKIP
    1
    """

    def __init__(
        self,
        client: LDClient,
        *,
        variation_names: VariationNames | None = None,
        context_kind: str = "user",
        experiments_only: bool = True,
        default: Any = None,
        name: str = "launchdarkly",
    ) -> None:
        self.client = client
        self.variation_names: dict[str, Mapping[int, str]] = {
            key: dict(enumerate(names)) if not isinstance(names, Mapping) else dict(names)
            for key, names in (variation_names or {}).items()
        }
        self.context_kind = context_kind
        self.experiments_only = experiments_only
        self.default = default
        self._name = name

    @property
    def name(self) -> str:
        """``"launchdarkly"`` unless given: the ``Flag provider`` of every exposure."""
        return self._name

    def context(self, distinct_id: str, attributes: Mapping[str, Any]) -> Context:
        """The LaunchDarkly context evaluated for ``distinct_id``.

        >>> flags.context("user-42", {"plan": "pro"}).get("plan")  # doctest: +SKIP
        'pro'
        """
        builder = Context.builder(distinct_id).kind(self.context_kind)
        for key, value in attributes.items():
            builder.set(key, value)
        context = builder.build()
        if not context.valid:
            raise ValueError(f"invalid LaunchDarkly context for {distinct_id!r}: {context.error}")
        return context

    def _variation_name(self, flag: str, index: int, value: Any) -> str:
        names = self.variation_names.get(flag)
        if names is not None and index in names:
            return names[index]
        return variant_name(value) or str(index)

    def evaluate(
        self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
    ) -> Assignment:
        """``variation_detail`` for ``distinct_id``, mapped to an Assignment; no exposure.

        >>> flags.evaluate("user-42", "checkout", {}).in_experiment  # doctest: +SKIP
        True
        """
        detail = self.client.variation_detail(
            experiment, self.context(distinct_id, attributes), self.default
        )
        reason: Mapping[str, Any] = detail.reason or {}
        kind = str(reason.get("kind", "UNKNOWN"))
        index = detail.variation_index
        if index is None:
            why = reason.get("errorKind", kind)
            return Assignment(None, value=detail.value, reason=str(why).lower())
        metadata: dict[str, Any] = {"LaunchDarkly reason": kind, "Variation index": index}
        if reason.get("ruleId"):
            metadata["Rule id"] = reason["ruleId"]
        in_experiment = bool(reason.get("inExperiment")) if self.experiments_only else kind != "OFF"
        return Assignment(
            self._variation_name(experiment, index, detail.value),
            value=detail.value,
            in_experiment=in_experiment,
            reason=kind.lower(),
            metadata=metadata,
        )

    def __repr__(self) -> str:
        return f"LaunchDarklyFlags(context_kind={self.context_kind!r})"
