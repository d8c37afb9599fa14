"""The event stream as the audit reads it: exposures, people (merged ids), times, names.

Everything here is pure: a list of ``{"event": ..., "properties": {...}}`` dicts in arrival
order in, values out.

>>> events = [
...     {"event": "$experiment_started", "properties": {"distinct_id": "$device:d1", "time": 10,
...      "$device_id": "d1", "Experiment name": "checkout", "Variant name": "control"}},
...     {"event": "Signed up", "properties": {"distinct_id": "u1", "time": 20,
...      "$device_id": "d1", "$user_id": "u1"}},
... ]
>>> [(x.person, x.experiment, x.variant) for x in exposures(events, identity_from_events(events))]
[('u1', 'checkout', 'control')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from mixtrack.protocol.identity import Link, clusters, links_of

__all__ = [
    "EXPOSURE_EVENT",
    "Identity",
    "Occurrence",
    "identity_from_clusters",
    "identity_from_events",
    "identity_from_links",
    "looks_anonymous",
    "name_key",
    "occurrences",
]

EXPOSURE_EVENT = "$experiment_started"
EXPERIMENT = "Experiment name"
VARIANT = "Variant name"


class Identity(Protocol):
    """Maps a distinct_id to the person it belongs to (the canonical id of its merged
    cluster); any function of one ``str`` to ``str`` is one.

    >>> identity: Identity = identity_from_clusters([["user-1", "$device:d1"]])
    >>> identity("$device:d1")
    'user-1'
    """

    def __call__(self, distinct_id: str, /) -> str: ...


Event = Mapping[str, Any]

_ANON_PREFIXES = ("$device:", "anon-", "anon_", "anon:", "anonymous-", "$anon")
_NOT_A_NAME = re.compile(r"[\W_]+", re.UNICODE)


def name_key(name: str) -> str:
    """What is left of a name without case, spacing and punctuation.

    >>> name_key("Pricing Page-Layout") == name_key("pricing_page_layout")
    True
    """
    return _NOT_A_NAME.sub("", name).casefold()


def identity_from_links(links: Iterable[Link], mode: str = "simplified") -> Identity:
    """An :class:`Identity` from identity links, as the collector stores them, merged the way
    the ID-merge system ``mode`` (``"simplified"`` or ``"original"``) merges them."""
    by_id = clusters(links, mode)

    def person(distinct_id: str) -> str:
        cluster = by_id.get(distinct_id)
        return cluster[0] if cluster else distinct_id

    return person


def identity_from_clusters(groups: Iterable[Sequence[str]]) -> Identity:
    """An :class:`Identity` from clusters (canonical id first), as ``GET identity`` lists them."""
    by_id = {member: str(group[0]) for group in groups if group for member in group}

    def person(distinct_id: str) -> str:
        return by_id.get(distinct_id, distinct_id)

    return person


def identity_from_events(events: Iterable[Event], mode: str = "simplified") -> Identity:
    """An :class:`Identity` from the links in a stream, merged as the ID-merge system ``mode``
    merges them: ``$device_id``/``$user_id`` (``"simplified"``), or ``$identify``,
    ``$create_alias`` and ``$merge`` (``"original"``)."""
    links = [
        link
        for event in events
        for link in links_of(str(event.get("event")), event.get("properties") or {})
    ]
    return identity_from_links(links, mode)


def looks_anonymous(distinct_id: str, properties: Mapping[str, Any]) -> bool:
    """Whether ``distinct_id`` is a device/anonymous id rather than a known user's.

    mixpanel-browser and mixtrack's Django plugin use ``$device:<uuid>``, the Flask plugin
    ``anon-<hex>``; an event whose ``$device_id`` is its distinct_id and that has no
    ``$user_id`` is anonymous too.

    >>> looks_anonymous("$device:1f0c", {}), looks_anonymous("user-42", {})
    (True, False)
    """
    if distinct_id.lower().startswith(_ANON_PREFIXES):
        return True
    device = properties.get("$device_id")
    return device is not None and str(device) == distinct_id and "$user_id" not in properties


def seconds(value: object) -> float | None:
    """Event ``time`` in seconds (Mixpanel accepts seconds or milliseconds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) / 1000.0 if value > 1e11 else float(value)


@attrs.frozen
class Occurrence:
    """One event as the audit sees it: who (id and person), when, and its place in arrival."""

    index: int
    event: str
    distinct_id: str
    person: str
    time: float
    properties: Mapping[str, Any]

    @property
    def is_exposure(self) -> bool:
        return self.event == EXPOSURE_EVENT

    @property
    def experiment(self) -> str | None:
        return _name(self.properties.get(EXPERIMENT))

    @property
    def variant(self) -> str | None:
        return _name(self.properties.get(VARIANT))

    @property
    def order(self) -> tuple[float, int]:
        """Sort key: event time, then arrival."""
        return (self.time, self.index)

    def example(self) -> dict[str, Any]:
        """A short JSON description for findings."""
        out: dict[str, Any] = {"distinct_id": self.distinct_id, "time": self.time}
        if self.person != self.distinct_id:
            out["person"] = self.person
        if self.is_exposure:
            out["experiment"] = self.properties.get(EXPERIMENT)
            out["variant"] = self.properties.get(VARIANT)
        insert_id = self.properties.get("$insert_id")
        if insert_id is not None:
            out["insert_id"] = insert_id
        return out


def _name(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def occurrences(events: Iterable[Event], identity: Identity | None = None) -> list[Occurrence]:
    """Events with a distinct_id, in arrival order, each mapped to its person.

    ``identity`` defaults to the identity links found in ``events`` themselves. An event
    without ``time`` takes the time of the event before it, so arrival order decides.
    """
    events = list(events)
    if identity is None:
        identity = identity_from_events(events)
    found: list[Occurrence] = []
    last_time = 0.0
    for index, event in enumerate(events):
        properties = event.get("properties") or {}
        distinct_id = properties.get("distinct_id")
        if distinct_id is None or distinct_id == "":
            continue
        when = seconds(properties.get("time"))
        last_time = last_time if when is None else when
        distinct = str(distinct_id)
        found.append(
            Occurrence(
                index, str(event.get("event")), distinct, identity(distinct), last_time, properties
            )
        )
    return found


def exposures(events: Iterable[Event], identity: Identity | None = None) -> list[Occurrence]:
    """Just the ``$experiment_started`` occurrences, in arrival order."""
    return [o for o in occurrences(events, identity) if o.is_exposure]
