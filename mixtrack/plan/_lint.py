"""``mixtrack plan lint``: the naming practice a plan (and what was sent) should keep.

Mixpanel's advice: few events with rich properties, one naming convention, one spelling per
name. The checks, each a :class:`Finding` code:

- ``naming``: a name not spelt in the convention (snake_case unless told otherwise).
- ``near_duplicate``: two names that are one name spelt twice (``Checkout Test`` and
  ``checkout-test``, ``Signed up`` and ``Signed upp``).
- ``case_only``: properties that differ only in case (``plan`` and ``Plan``).
- ``mergeable_events``: events whose names differ in one word and whose properties are the
  same, which read better as one event with a property (``Clicked signup button`` and
  ``Clicked login button`` as ``Clicked button`` with ``button``).
- ``off_plan``: with events that were actually sent, the ways they broke the plan.

Names Mixpanel defines (``$``-prefixed events and properties, and the properties of ``$``
events such as ``Experiment name``) are not the plan's to spell and are left alone.

>>> from mixtrack.plan import Entry, Plan
>>> plan = Plan([Entry("event", "checkout_test", {}), Entry("event", "Checkout Test", {})])
>>> [f.code for f in lint(plan)]
['naming', 'near_duplicate']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher
from typing import Any

import attrs

from mixtrack.plan._check import is_default_property
from mixtrack.plan._names import Convention, fold, follows, spell, words
from mixtrack.plan._plan import Plan

__all__ = ["Finding", "lint"]

_NEAR = 0.9  # folded names this similar are one name misspelt (Signed up / Signed upp)


@attrs.frozen
class Finding:
    """One lint finding: ``code`` (see the module), the ``names`` concerned, and a message."""

    code: str
    names: tuple[str, ...]
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "names": list(self.names), "message": self.message}


def lint(
    plan: Plan,
    *,
    convention: Convention = "snake_case",
    property_convention: Convention | None = None,
    sent: Iterable[Mapping[str, Any]] = (),
) -> list[Finding]:
    """Every finding for ``plan`` and, when given, the events ``sent`` (``{"event",
    "properties"}`` dicts, as a collector stores them), in a stable order."""
    prop_style = property_convention or convention
    events: dict[str, set[str]] = {
        name: set(entry.properties) for name, entry in plan.events.items()
    }
    seen = Counter[str]()
    off_plan = Counter[str]()
    for message in sent:
        name = message.get("event")
        if not isinstance(name, str):
            continue
        seen[name] += 1
        props = message.get("properties")
        props = props if isinstance(props, Mapping) else {}
        events.setdefault(name, set()).update(k for k in props if not is_default_property(k))
        for violation in plan.check(name, props):
            off_plan[violation.reason] += 1
    findings = [*_naming(events, convention, prop_style), *_near_duplicates(events)]
    findings += [*_case_only(events), *_mergeable(events)]
    for reason, count in sorted(off_plan.items()):
        findings.append(Finding("off_plan", (), f"{count} sent events: {reason}"))
    return findings


def _own(events: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The events and properties the plan spells (not Mixpanel's own)."""
    return {
        name: {p for p in props if not p.startswith("$")}
        for name, props in events.items()
        if not name.startswith("$")
    }


def _naming(
    events: Mapping[str, set[str]], convention: Convention, prop_style: Convention
) -> list[Finding]:
    found = []
    properties: set[str] = set()
    for name, props in sorted(_own(events).items()):
        properties |= props
        if not follows(name, convention):
            better = spell(name, convention)
            found.append(
                Finding("naming", (name,), f"event {name!r} is not {convention}: {better!r}")
            )
    for prop in sorted(properties):
        if not follows(prop, prop_style):
            better = spell(prop, prop_style)
            found.append(
                Finding("naming", (prop,), f"property {prop!r} is not {prop_style}: {better!r}")
            )
    return found


def _near_duplicates(events: Mapping[str, set[str]]) -> list[Finding]:
    own = _own(events)
    found = []
    for kind, names in (
        ("events", sorted(own)),
        ("properties", sorted(set().union(*own.values()))),
    ):
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a, b = fold(first), fold(second)
                if first.lower() == second.lower() and kind == "properties":
                    continue  # case_only says it better
                if a == b or (
                    min(len(a), len(b)) >= 6 and SequenceMatcher(None, a, b).ratio() >= _NEAR
                ):
                    found.append(
                        Finding(
                            "near_duplicate",
                            (first, second),
                            f"{kind} {first!r} and {second!r} look like one name spelt twice",
                        )
                    )
    return found


def _case_only(events: Mapping[str, set[str]]) -> list[Finding]:
    spellings: dict[str, set[str]] = defaultdict(set)
    for props in _own(events).values():
        for prop in props:
            spellings[prop.lower()].add(prop)
    return [
        Finding(
            "case_only",
            tuple(sorted(names)),
            "properties " + " and ".join(repr(n) for n in sorted(names)) + " differ only in case",
        )
        for _, names in sorted(spellings.items())
        if len(names) > 1
    ]


def _mergeable(events: Mapping[str, set[str]]) -> list[Finding]:
    """Events whose names differ in one word, with the same properties."""
    groups: dict[tuple[tuple[str, ...], int, frozenset[str]], list[str]] = defaultdict(list)
    for name, props in _own(events).items():
        parts = tuple(words(name))
        if len(parts) < 2:
            continue
        for position in range(len(parts)):
            rest = (*parts[:position], "*", *parts[position + 1 :])
            groups[(rest, position, frozenset(props))].append(name)
    found = []
    reported: set[tuple[str, ...]] = set()
    for (rest, position, _), names in sorted(groups.items()):
        key = tuple(sorted(names))
        varying = sorted({words(n)[position] for n in names})
        if len(varying) < 2 or key in reported:
            continue
        reported.add(key)
        shared = " ".join(w for w in rest if w != "*")
        found.append(
            Finding(
                "mergeable_events",
                key,
                f"events {', '.join(repr(n) for n in key)} could be one event {shared!r} with a "
                f"property for {', '.join(varying)}",
            )
        )
    return found
