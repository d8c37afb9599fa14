"""A store that keeps nothing but counts: the collector as a fast sink for load tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from mixtrack.collector._store import EventQuery, Rejection, StoredEvent, Written
from mixtrack.collector._validate import Event, Update
from mixtrack.protocol.identity import Link


class CountingStore:
    """Counts events, distinct ``$insert_id`` values, updates and rejections; stores nothing.

    Used by ``mixtrack collector --count-only``; the app then also skips record validation.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events = 0
        self._insert_ids: set[str] = set()
        self._updates = 0
        self._rejected = 0

    def count_records(self, records: Sequence[Any]) -> None:
        """Count raw records without validating them."""
        ids = [
            r["properties"].get("$insert_id")
            for r in records
            if type(r) is dict and type(r.get("properties")) is dict
        ]
        with self._lock:
            self._events += len(records)
            self._insert_ids.update(i for i in ids if isinstance(i, str))

    def add_events(
        self,
        events: Sequence[Event],
        *,
        endpoint: str,
        received_at: float,
        links: Sequence[Link] = (),
    ) -> Written:
        self.count_records([{"properties": e.properties} for e in events])
        return Written(stored=len(events), duplicates=0)

    def apply_updates(self, updates: Sequence[Update], *, received_at: float) -> int:
        with self._lock:
            self._updates += len(updates)
        return len(updates)

    def add_rejection(self, rejection: Rejection) -> None:
        with self._lock:
            self._rejected += 1

    def events(self, query: EventQuery) -> tuple[list[StoredEvent], int]:
        return [], 0

    def profiles(self, distinct_id: str | None = None) -> list[dict[str, Any]]:
        return []

    def groups(
        self, group_key: str | None = None, group_id: str | None = None
    ) -> list[dict[str, Any]]:
        return []

    def rejected(self) -> list[Rejection]:
        return []

    def identity_links(self) -> list[Link]:
        return []

    def all_events(self) -> list[dict[str, Any]]:
        return []

    def exposures(self) -> list[tuple[str, str, int, int]]:
        return []

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "events": self._events,
                "distinct_insert_ids": len(self._insert_ids),
                "updates": self._updates,
                "rejected": self._rejected,
            }

    def reset(self) -> None:
        with self._lock:
            self._events = self._updates = self._rejected = 0
            self._insert_ids.clear()

    def close(self) -> None:
        pass
