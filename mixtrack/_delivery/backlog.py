"""Where a queue's pending records are kept: the backlog, and its in-memory twin.

Every record the queue accepts is added to its backlog first, and acknowledged to it once it
settles (sent, rejected or dropped); the backlog's bounds are the queue's bounds. Two backlogs
keep this promise:

- :class:`MemoryBacklog` keeps nothing but the count and bytes of the pending records: the
  records themselves live in the queue's lanes, and what has not settled at shutdown is lost
  (booked as dropped). Its bounds are ``max_queue_events`` and ``max_queue_bytes``.
- :class:`~mixtrack._delivery.spool.Spool` writes each record to disk before ``put`` returns;
  the queue's lanes are then a bounded window onto it, refilled with :meth:`Backlog.read`, and
  what has not settled at shutdown stays on disk for the next process. Its bound is
  ``spool_max_bytes``.

The queue asks the backlog, never which kind it has: whether a record fits, which oldest
records may be dropped to make room, what to read back, what settled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from mixtrack.protocol.routes import Route

__all__ = ["Backlog", "MemoryBacklog"]


class Backlog(Protocol):
    """The store of a queue's pending records; called under the queue's lock."""

    #: True when what is pending at shutdown is kept (for the next process), not dropped.
    durable: bool
    #: the drop cause when a record does not fit, e.g. ``"queue full"``
    full_cause: str
    #: records found unreadable when adopted (``Stats.spool_corrupt``)
    corrupt: int

    def add(self, route: Route, record: bytes) -> bool:
        """Keeps ``record`` as the next one of ``route`` when it fits; False when it does
        not (nothing is kept). Raises ``OSError`` when the store failed."""
        ...

    def has_room(self, size: int) -> bool:
        """True when a record of ``size`` bytes fits now."""
        ...

    def droppable(self, route: Route, index: int) -> int:
        """How many of ``route``'s records from ``index`` on must be dropped together to free
        room (0: dropping them would free none)."""
        ...

    def read(self, route: Route, index: int, limit: int) -> list[bytes]:
        """Up to ``limit`` records of ``route`` from ``index`` on that the queue's window
        does not hold (always empty for a backlog that holds nothing of its own)."""
        ...

    def ack(self, route: Route, first: int, count: int, nbytes: int) -> None:
        """``count`` records of ``route`` from index ``first`` (``nbytes`` in all) settled."""
        ...

    def before_send(self) -> None:
        """A batch is about to be sent."""
        ...

    def adopt_orphans(self) -> Iterator[tuple[Route, bytes]]:
        """Records left pending by processes that ended, to be queued again."""
        ...

    def close(self) -> None:
        """The queue closed: what is still pending is let go of (or kept, when durable)."""
        ...

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's resources without touching them."""
        ...


class MemoryBacklog:
    """The backlog of a queue without a spool: the count and bytes of its pending records,
    bounded by ``max_events`` and ``max_bytes`` (one record always fits in an empty one)."""

    durable = False
    full_cause = "queue full"
    corrupt = 0

    def __init__(self, max_events: int, max_bytes: int) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.count = 0
        self.bytes = 0

    def add(self, route: Route, record: bytes) -> bool:
        size = len(record)
        if self.count and (self.count >= self.max_events or self.bytes + size > self.max_bytes):
            return False
        self.count += 1
        self.bytes += size
        return True

    def has_room(self, size: int) -> bool:
        return not self.count or (
            self.count < self.max_events and self.bytes + size <= self.max_bytes
        )

    def droppable(self, route: Route, index: int) -> int:
        return 1  # each record dropped frees its own room

    def read(self, route: Route, index: int, limit: int) -> list[bytes]:
        return []  # every pending record is in the queue's lanes

    def ack(self, route: Route, first: int, count: int, nbytes: int) -> None:
        self.count -= count
        self.bytes -= nbytes

    def before_send(self) -> None:
        pass

    def adopt_orphans(self) -> Iterator[tuple[Route, bytes]]:
        return iter(())

    def close(self) -> None:
        self.count = self.bytes = 0

    def forget_after_fork(self) -> None:
        pass
