"""The store interface: what the collector keeps and how it is read back.

:class:`~mixtrack.collector.SqliteStore` is the default; :class:`CountingStore` keeps only
counts, for load tests that use the collector as a sink. Another backend implements
:class:`Store` and is passed to :func:`mixtrack.collector.make_app`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs

from mixtrack.collector._validate import Event, Update
from mixtrack.protocol.identity import IdentityMode, Link


@attrs.frozen
class EventQuery:
    """Filters of ``GET /_mixtrack/events``; results come in arrival order."""

    event: str | None = None
    distinct_id: str | None = None
    #: Also match every id merged with ``distinct_id``, as ``identity_mode`` merges ids.
    identity: bool = False
    identity_mode: IdentityMode = "simplified"
    since: float | None = None
    until: float | None = None
    endpoint: str | None = None
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    after: int = 0
    offset: int = 0
    limit: int = 1000


@attrs.frozen
class StoredEvent:
    seq: int
    event: str
    properties: dict[str, Any]
    endpoint: str
    received_at: float


@attrs.frozen
class Rejection:
    """A refused request, or a request with refused records, and why."""

    endpoint: str
    method: str
    status: int
    reason: str
    received_at: float
    failed: Sequence[Mapping[str, Any]] = ()
    excerpt: str = ""
    seq: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "endpoint": self.endpoint,
            "method": self.method,
            "status": self.status,
            "reason": self.reason,
            "received_at": self.received_at,
            "failed_records": list(self.failed),
            "excerpt": self.excerpt,
        }


@attrs.frozen
class Written:
    stored: int
    duplicates: int


class Store(Protocol):
    """Everything the collector app asks of its storage. Implementations are thread-safe."""

    def add_events(
        self,
        events: Sequence[Event],
        *,
        endpoint: str,
        received_at: float,
        links: Sequence[Link] = (),
    ) -> Written:
        """Store ``events`` in one transaction, dropping duplicates; record identity links."""

    def apply_updates(self, updates: Sequence[Update], *, received_at: float) -> int:
        """Apply profile/group updates in order, in one transaction; return how many."""

    def add_rejection(self, rejection: Rejection) -> None: ...

    def events(self, query: EventQuery) -> tuple[list[StoredEvent], int]:
        """One page of matching events and the total number that match."""

    def profiles(self, distinct_id: str | None = None) -> list[dict[str, Any]]: ...

    def groups(
        self, group_key: str | None = None, group_id: str | None = None
    ) -> list[dict[str, Any]]: ...

    def rejected(self) -> list[Rejection]: ...

    def identity_links(self) -> list[Link]:
        """Every identity link stored, in arrival order, for either ID-merge system."""

    def all_events(self) -> list[dict[str, Any]]:
        """Every stored event as ``{"event": ..., "properties": {...}}``, in arrival order."""

    def exposures(self) -> list[tuple[str, str, int, int]]:
        """``$experiment_started`` counts: (experiment, variant, events, distinct ids)."""

    def counts(self) -> dict[str, int]:
        """Sizes, e.g. ``{"events": n, "profiles": n, "groups": n}``."""

    def reset(self) -> None: ...

    def close(self) -> None: ...
