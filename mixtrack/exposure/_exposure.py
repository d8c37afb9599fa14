"""The exposure event as a value, and the pure rules that name it: insert id, ledger keys."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

import attrs

from mixtrack.protocol.exposure import (
    EXPERIMENT_NAME,
    EXPERIMENT_TYPE,
    EXPOSURE_EVENT,
    FLAG_PROVIDER,
    VARIANT_NAME,
)

__all__ = ["EXPOSURE_EVENT", "Exposure", "Tracker", "exposure_insert_id"]

"""The event name Mixpanel's experiment reports read."""

# Properties mixtrack sets itself; provider metadata cannot replace them.
_RESERVED = frozenset(
    {EXPERIMENT_NAME, VARIANT_NAME, FLAG_PROVIDER, "distinct_id", "token", "time", "$insert_id"}
)


class Tracker(Protocol):
    """What :class:`~mixtrack.exposure.Experiments` needs from a client: ``track``.

    :class:`mixtrack.Client` and :class:`mixtrack.AsyncClient` are trackers; so is any
    object with this method, which makes a recording tracker a one-liner in tests.
    """

    def track(
        self,
        distinct_id: str | None,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        time: datetime | float | None = None,
        insert_id: str | None = None,
    ) -> None:
        """Enqueue one event; must not block on I/O."""
        ...


@functools.lru_cache(maxsize=4096)  # a page asks for the same few ids several times
def exposure_insert_id(distinct_id: str, experiment: str) -> str:
    """The ``$insert_id`` of the exposure of ``distinct_id`` to ``experiment``.

    Deterministic, so a replayed exposure collapses at Mixpanel and at the local collector:
    32 hex characters of SHA-256 over both names (within Mixpanel's 36 ``[A-Za-z0-9-]``).

    >>> exposure_insert_id("user-42", "checkout_redesign") == exposure_insert_id(
    ...     "user-42", "checkout_redesign")
    True
    >>> len(exposure_insert_id("user-42", "checkout_redesign"))
    32
    """
    return hashlib.sha256(f"{distinct_id}\x1f{experiment}".encode()).hexdigest()[:32]


def exposure_key(distinct_id: str, experiment: str) -> str:
    """Ledger key saying "(distinct_id, experiment) was exposed"; safe for any cache backend."""
    return "x:" + exposure_insert_id(distinct_id, experiment)


@functools.lru_cache(maxsize=4096)
def link_key(user_id: str) -> str:
    """Ledger key holding the anonymous id first linked to ``user_id`` by ``identify``."""
    return "l:" + hashlib.sha256(user_id.encode()).hexdigest()[:32]


@attrs.frozen
class Record:
    """What a ledger stores for one exposure: who reserved it and which variant was shown.

    The token makes a reservation ours, so a discard releases only its own.
    """

    token: str
    variant: str
    value: Any = None

    def encode(self) -> str:
        try:
            return json.dumps({"t": self.token, "v": self.variant, "x": self.value})
        except (TypeError, ValueError):
            # A value that is not JSON is not remembered; the variant name still is.
            return json.dumps({"t": self.token, "v": self.variant})

    @classmethod
    def decode(cls, text: str) -> Record | None:
        try:
            data = json.loads(text)
            return cls(str(data["t"]), str(data["v"]), data.get("x"))
        except (ValueError, KeyError, TypeError):
            return None


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen
class Exposure:
    """One exposure: ``distinct_id`` was shown ``variant`` of ``experiment`` at ``time``.

    >>> e = Exposure("user-42", "checkout_redesign", "treatment", provider="static",
    ...              time=1700000000.0)
    >>> e.event, e.properties()["Variant name"], e.insert_id == exposure_insert_id(
    ...     "user-42", "checkout_redesign")
    ('$experiment_started', 'treatment', True)
    """

    distinct_id: str
    experiment: str
    variant: str
    provider: str
    time: float
    experiment_type: str = "ab_test"
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen)

    event = EXPOSURE_EVENT

    @property
    def insert_id(self) -> str:
        """The deterministic ``$insert_id`` (see :func:`exposure_insert_id`)."""
        return exposure_insert_id(self.distinct_id, self.experiment)

    def properties(self) -> dict[str, Any]:
        """The event properties: names as given, provider metadata added unchanged."""
        properties = {k: v for k, v in self.metadata.items() if k not in _RESERVED}
        properties.update(
            {
                EXPERIMENT_NAME: self.experiment,
                VARIANT_NAME: self.variant,
                EXPERIMENT_TYPE: self.metadata.get(EXPERIMENT_TYPE, self.experiment_type),
                FLAG_PROVIDER: self.provider,
            }
        )
        return properties

    def send(self, tracker: Tracker) -> None:
        """Hand the event to ``tracker`` (non-blocking for :class:`mixtrack.Client`)."""
        tracker.track(
            self.distinct_id,
            self.event,
            self.properties(),
            time=self.time,
            insert_id=self.insert_id,
        )
