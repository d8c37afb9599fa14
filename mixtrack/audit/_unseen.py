"""Rendered but never seen: people sent a variant waiting to be seen who never saw it.

A variant exposed when visible leaves an ``Experiment rendered`` event when the page is
delivered, and an ``$experiment_started`` only once the visitor has really looked at it.
Per experiment, the people with a render and no exposure are the ones the page reached but
the variant did not: below the fold, in a closed panel, in a tab never opened.

>>> events = [
...     {"event": "Experiment rendered", "properties": {"distinct_id": "a",
...      "Experiment name": "offer", "Variant name": "discount"}},
...     {"event": "Experiment rendered", "properties": {"distinct_id": "b",
...      "Experiment name": "offer", "Variant name": "control"}},
...     {"event": "$experiment_started", "properties": {"distinct_id": "a",
...      "Experiment name": "offer", "Variant name": "discount"}},
... ]
>>> never = unseen(events)["offer"]
>>> never.rendered, never.seen, never.never_seen, dict(never.by_variant)
(2, 1, 1, {'control': 1})
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mixtrack.audit._stream import Event, Identity, occurrences
from mixtrack.protocol.rendered import RENDER_EVENT

__all__ = ["Unseen", "format_unseen", "unseen"]


@attrs.frozen
class Unseen:
    """One experiment's renders: people ``rendered``, of them ``seen`` (exposed), and the
    rest, ``never_seen``, also per variant (the variant rendered first)."""

    rendered: int
    seen: int
    never_seen: int
    by_variant: Mapping[str, int]

    @property
    def share(self) -> float:
        """The part of rendered people who never saw the variant (0.0 without renders)."""
        return self.never_seen / self.rendered if self.rendered else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "rendered": self.rendered,
            "seen": self.seen,
            "never_seen": self.never_seen,
            "share": self.share,
            "by_variant": dict(self.by_variant),
        }


def unseen(events: Iterable[Event], identity: Identity | None = None) -> dict[str, Unseen]:
    """Per experiment with renders, how many rendered people never saw their variant.

    ``identity`` maps a distinct_id to its person (default: the identity events in
    ``events``), so a render before login and an exposure after it are one person.
    """
    rendered: dict[str, dict[str, str]] = defaultdict(dict)
    exposed: dict[str, set[str]] = defaultdict(set)
    for o in occurrences(events, identity):
        name = o.experiment
        if name is None:
            continue
        if o.is_exposure:
            exposed[name].add(o.person)
        elif o.event == RENDER_EVENT and o.variant is not None:
            rendered[name].setdefault(o.person, o.variant)
    out = {}
    for name in sorted(rendered):
        people = rendered[name]
        never = {person: v for person, v in people.items() if person not in exposed[name]}
        by_variant: dict[str, int] = defaultdict(int)
        for variant in never.values():
            by_variant[variant] += 1
        out[name] = Unseen(len(people), len(people) - len(never), len(never), dict(by_variant))
    return out


def format_unseen(found: Mapping[str, Unseen]) -> str:
    """The "rendered but never seen" lines of ``mixtrack audit`` (empty without renders)."""
    if not found:
        return ""
    lines = ["Rendered but never seen (exposure when visible)"]
    for name, one in found.items():
        lines.append(
            f"  {name}: {one.never_seen} of {one.rendered} rendered user(s) never saw it "
            f"({one.share * 100:.1f}%)"
        )
    return "\n".join(lines)
