"""The launch audit: Mixpanel's experiment validation checklist as pure functions.

>>> def exposed(user, variant, t):
...     return {"event": "$experiment_started", "properties": {"distinct_id": user, "time": t,
...             "Experiment name": "checkout", "Variant name": variant}}
>>> events = [exposed("u1", "control", 1), exposed("u1", "treatment", 2)]
>>> sorted(audit(events).codes())
['duplicate_exposure', 'no_later_activity', 'variant_flip']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from mixtrack.audit._findings import (
    AuditReport,
    ExperimentAudit,
    Finding,
    SampleRatio,
    VariantCount,
)
from mixtrack.audit._stats import chi_square_gof
from mixtrack.audit._stream import (
    EXPERIMENT,
    VARIANT,
    Event,
    Identity,
    Occurrence,
    identity_from_events,
    looks_anonymous,
    name_key,
    occurrences,
)
from mixtrack.protocol.identity import device_distinct_id, links_of

__all__ = ["Plan", "audit"]

#: Planned weights: ``{variant: weight}``, or ``{experiment: {variant: weight}}``.
Plan = Mapping[str, float] | Mapping[str, Mapping[str, float]]

_SEVERITY_ORDER = {"error": 0, "warning": 1}


def audit(
    events: Iterable[Event],
    *,
    experiment: str | None = None,
    weights: Plan | None = None,
    identity: Identity | None = None,
    srm_threshold: float = 0.001,
    max_examples: int = 5,
) -> AuditReport:
    """Audit the exposures in ``events`` (dicts ``{"event", "properties"}``, arrival order).

    ``experiment`` limits the audit to one experiment (names that differ from it only by
    case or punctuation are still reported). ``weights`` are the planned split for the
    sample-ratio test, per experiment or for ``experiment``; without them an even split is
    tested. ``identity`` maps a distinct_id to its person (default: the identity links in
    ``events``, merged as Simplified ID Merge merges them; see
    :func:`~mixtrack.audit.identity_from_events` for Original ID Merge).

    >>> audit([]).clean
    True
    """
    events = list(events)
    if identity is None:
        identity = identity_from_events(events)
    seen = occurrences(events, identity)
    exposures = [o for o in seen if o.is_exposure]
    findings: list[Finding] = []
    findings += _missing_names(exposures, experiment, max_examples)
    findings += _inconsistent_names(exposures, experiment)
    unjoined = _unjoined(events, identity)
    activity = _activity(seen)
    by_name: dict[str, list[Occurrence]] = defaultdict(list)
    for exposure in exposures:
        name = exposure.experiment
        if name is not None and exposure.variant is not None:
            by_name[name].append(exposure)
    audits = []
    for name in sorted(by_name):
        if experiment is not None and name != experiment:
            continue
        planned = _plan_for(weights, name, experiment)
        one = _audit_one(
            name, by_name[name], planned, unjoined, activity, srm_threshold, max_examples
        )
        audits.append(one)
        findings += one.findings
    findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.experiment or "", f.code))
    return AuditReport(tuple(audits), tuple(findings))


def _plan_for(weights: Plan | None, name: str, selected: str | None) -> Mapping[str, float] | None:
    if not weights:
        return None
    values = list(weights.values())
    if all(isinstance(v, Mapping) for v in values):
        nested: Mapping[str, Mapping[str, float]] = weights  # type: ignore[assignment]
        return nested.get(name)
    flat: Mapping[str, float] = weights  # type: ignore[assignment]
    # A flat plan belongs to the selected experiment, or to every experiment when none is.
    return flat if selected is None or selected == name else None


def _examples(items: Iterable[Occurrence], limit: int) -> tuple[dict[str, Any], ...]:
    return tuple(o.example() for o in list(items)[:limit])


def _missing_names(exposures: list[Occurrence], selected: str | None, limit: int) -> list[Finding]:
    no_experiment = [o for o in exposures if o.experiment is None]
    no_variant = [
        o
        for o in exposures
        if o.experiment is not None
        and o.variant is None
        and (selected is None or name_key(o.experiment) == name_key(selected))
    ]
    found = []
    if no_experiment:
        found.append(
            Finding(
                "missing_experiment_name",
                "error",
                None,
                f"{len(no_experiment)} exposure(s) without {EXPERIMENT!r}: no report can "
                "attribute them to an experiment",
                len(no_experiment),
                _examples(no_experiment, limit),
                f"Send {EXPERIMENT!r} and {VARIANT!r} on every $experiment_started "
                "(mixtrack.exposure does).",
            )
        )
    for name, group in _group(no_variant, lambda o: str(o.experiment)).items():
        found.append(
            Finding(
                "missing_variant_name",
                "error",
                name,
                f"{len(group)} exposure(s) of {name!r} without {VARIANT!r}",
                len(group),
                _examples(group, limit),
                f"Send {VARIANT!r} with the variant actually shown.",
            )
        )
    return found


def _group(items: Iterable[Occurrence], key: Any) -> dict[str, list[Occurrence]]:
    groups: dict[str, list[Occurrence]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return dict(groups)


def _inconsistent_names(exposures: list[Occurrence], selected: str | None) -> list[Finding]:
    found = []
    experiments = Counter(o.experiment for o in exposures if o.experiment is not None)
    for names in _spellings(experiments).values():
        if selected is not None and name_key(selected) != name_key(names[0][0]):
            continue
        listed = ", ".join(f"{n!r} ({c})" for n, c in names)
        found.append(
            Finding(
                "inconsistent_experiment_names",
                "warning",
                names[0][0],
                f"experiment names differ only by case, spacing or punctuation: {listed}",
                sum(c for _, c in names[1:]),
                tuple({"name": n, "exposures": c} for n, c in names),
                "Use one exact experiment name everywhere; Mixpanel treats each spelling as "
                "a separate experiment.",
            )
        )
    by_experiment = _group(
        (o for o in exposures if o.experiment and o.variant), lambda o: str(o.experiment)
    )
    for experiment, group in sorted(by_experiment.items()):
        if selected is not None and experiment != selected:
            continue
        variants = Counter(str(o.variant) for o in group)
        for names in _spellings(variants).values():
            listed = ", ".join(f"{n!r} ({c})" for n, c in names)
            found.append(
                Finding(
                    "inconsistent_variant_names",
                    "warning",
                    experiment,
                    f"variant names of {experiment!r} differ only by case, spacing or "
                    f"punctuation: {listed}",
                    sum(c for _, c in names[1:]),
                    tuple({"name": n, "exposures": c} for n, c in names),
                    "Send the variant names exactly as the flag defines them.",
                )
            )
    return found


def _spellings(counts: Counter[str]) -> dict[str, list[tuple[str, int]]]:
    """Names grouped by :func:`name_key`, only groups with two or more spellings."""
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name, count in counts.most_common():
        groups[name_key(name)].append((name, count))
    return {key: names for key, names in groups.items() if len(names) > 1}


def _unjoined(events: list[Event], identity: Identity) -> set[str]:
    """Ids that some event says belong with another id, which ``identity`` did not merge.

    The evidence: a link of either ID-merge system (``$device_id`` with ``$user_id``;
    ``$identify``, ``$create_alias``, ``$merge``), or an event whose ``$device_id`` names an
    anonymous device while its ``distinct_id`` is someone else. A visitor who never signed
    up leaves no such evidence, and is ordinary anonymous traffic.
    """
    claims: list[tuple[str, str]] = []
    for event in events:
        properties = event.get("properties") or {}
        claims += [
            (link.kept, link.merged) for link in links_of(str(event.get("event")), properties)
        ]
        device, distinct = properties.get("$device_id"), properties.get("distinct_id")
        if device not in (None, "") and distinct not in (None, ""):
            anonymous = device_distinct_id(device)
            if str(distinct) not in (anonymous, str(device)):
                claims.append((str(distinct), anonymous))
    unjoined: set[str] = set()
    for one, other in claims:
        if identity(one) != identity(other):
            unjoined.update((one, other))
    return unjoined


def _activity(seen: list[Occurrence]) -> dict[str, float]:
    """Each person's latest time with an event that is not an exposure."""
    latest: dict[str, float] = {}
    for o in seen:
        if not o.is_exposure:
            latest[o.person] = max(latest.get(o.person, o.time), o.time)
    return latest


def _audit_one(
    name: str,
    exposures: list[Occurrence],
    planned: Mapping[str, float] | None,
    unjoined: set[str],
    activity: dict[str, float],
    threshold: float,
    limit: int,
) -> ExperimentAudit:
    people = _group(exposures, lambda o: o.person)
    for group in people.values():
        group.sort(key=lambda o: o.order)
    first = {person: group[0] for person, group in people.items()}
    users = Counter(str(o.variant) for o in first.values())
    counts = Counter(str(o.variant) for o in exposures)
    findings: list[Finding] = []

    repeated = {p: g for p, g in people.items() if len(g) > 1}
    if repeated:
        extra = sum(len(g) - 1 for g in repeated.values())
        findings.append(
            Finding(
                "duplicate_exposure",
                "error",
                name,
                f"{len(repeated)} user(s) exposed more than once ({extra} extra exposure(s))",
                len(repeated),
                tuple(_person_example(p, g) for p, g in list(repeated.items())[:limit]),
                "Send the exposure once per user and experiment: keep a ledger "
                "(mixtrack.exposure.Experiments) and link ids at login with "
                "experiments.identify(anon_id, user_id).",
            )
        )
    flipped = {p: g for p, g in people.items() if len({name_key(str(o.variant)) for o in g}) > 1}
    if flipped:
        findings.append(
            Finding(
                "variant_flip",
                "error",
                name,
                f"{len(flipped)} user(s) saw more than one variant",
                len(flipped),
                tuple(_person_example(p, g) for p, g in list(flipped.items())[:limit]),
                "Keep assignment sticky per person: bucket on a stable id, do not change "
                "weights mid-test, and carry the anonymous variant over at login.",
            )
        )
    anonymous = [
        o
        for o in first.values()
        if looks_anonymous(o.distinct_id, o.properties) and o.distinct_id in unjoined
    ]
    if anonymous:
        findings.append(
            Finding(
                "unjoined_identity",
                "warning",
                name,
                f"{len(anonymous)} of {len(first)} exposed user(s) have an anonymous id that "
                "other events tie to a known user, but the ids were not merged: their "
                "activity after login will not count for their variant",
                len(anonymous),
                _examples(anonymous, limit),
                "Send identity the way the project's ID-merge system reads it: Simplified "
                "(the default) needs $device_id and $user_id on the events after login; "
                "Original needs $identify with $anon_distinct_id (`mixtrack collector "
                "--identity original` mirrors such a project).",
            )
        )
    idle = [o for o in first.values() if activity.get(o.person, float("-inf")) < o.time]
    if idle:
        findings.append(
            Finding(
                "no_later_activity",
                "warning",
                name,
                f"{len(idle)} of {len(first)} exposed user(s) did nothing at or after their "
                "exposure (a sign of logging at assignment instead of when shown)",
                len(idle),
                _examples(idle, limit),
                "Send the exposure when the variant is rendered (variant.expose() in the "
                "template), not when the flag is evaluated.",
            )
        )
    srm = _sample_ratio(users, planned, threshold)
    if planned:
        unplanned = sorted(set(users) - set(planned))
        if unplanned:
            findings.append(
                Finding(
                    "unplanned_variant",
                    "warning",
                    name,
                    f"variant(s) {unplanned!r} are not in the planned split {sorted(planned)!r}",
                    sum(users[v] for v in unplanned),
                    tuple({"variant": v, "users": users[v]} for v in unplanned),
                    "Check the variant names against the flag definition.",
                )
            )
    if srm is not None and srm.mismatch:
        split = "an even split (no weights given)" if srm.assumed else "the planned split"
        observed = ", ".join(f"{v}={n}" for v, n in srm.observed.items())
        findings.append(
            Finding(
                "sample_ratio_mismatch",
                "error",
                name,
                f"users per variant ({observed}) do not match {split}: chi-square "
                f"{srm.statistic:.2f}, p = {srm.p_value:.2g} < {srm.threshold:g}",
                sum(srm.observed.values()),
                ({"expected": dict(srm.expected), "observed": dict(srm.observed)},),
                "Do not read the results: find why one variant loses users (exposure sent "
                "only in one branch, bots, redirects, caching, a changed split).",
            )
        )
    total = sum(users.values()) or 1
    weight_total = sum(planned.values()) if planned else 0.0
    variants = {
        v: VariantCount(
            users[v],
            counts[v],
            users[v] / total,
            (planned[v] / weight_total) if planned and v in planned and weight_total else None,
        )
        for v in sorted(set(users) | set(planned or {}))
    }
    return ExperimentAudit(name, len(first), len(exposures), variants, srm, tuple(findings))


def _person_example(person: str, group: list[Occurrence]) -> dict[str, Any]:
    return {
        "person": person,
        "exposures": len(group),
        "distinct_ids": sorted({o.distinct_id for o in group}),
        "variants": [o.variant for o in group],
        "times": [o.time for o in group],
    }


def _sample_ratio(
    users: Counter[str], planned: Mapping[str, float] | None, threshold: float
) -> SampleRatio | None:
    assumed = not planned
    weights = dict(planned) if planned else {v: 1.0 for v in sorted(users)}
    if len(weights) < 2 or sum(users[v] for v in weights) == 0:
        return None
    names = list(weights)
    result = chi_square_gof([users[v] for v in names], [weights[v] for v in names])
    return SampleRatio(
        weights,
        {v: users[v] for v in names},
        dict(zip(names, result.expected, strict=True)),
        result.statistic,
        result.df,
        result.p_value,
        threshold,
        assumed,
    )
