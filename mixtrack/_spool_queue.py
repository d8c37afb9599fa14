"""The message queue backed by the spool: disk first, memory as a bounded window onto it.

``put`` appends the message to the spool, then keeps it in memory while the memory bounds
allow. Past them (a long outage), messages live on disk only — the *backlog* — and the worker
reads them back in order as memory frees up. Memory stays bounded; the disk bound
(``spool_max_bytes``) is where the overflow policy applies. At shutdown nothing is dropped:
what has not settled stays on disk, and the next process to open ``spool_dir`` delivers it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mixtrack._config import Config
from mixtrack._message import estimate_size
from mixtrack._queue import Batch, Dropped, Item, MessageQueue
from mixtrack._spool import Segment, Spool, encode_record
from mixtrack._stats import Stats
from mixtrack._wire import Route

__all__ = ["SpooledQueue"]


class SpooledQueue(MessageQueue):
    """A :class:`MessageQueue` whose messages are on disk before ``put`` returns."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        assert config.spool_dir is not None
        self.spool = Spool(config.spool_dir, segment_bytes=config.spool_segment_bytes)
        self._backlog = 0
        self._cursor: tuple[Segment, int, int] | None = None  # segment, byte offset, seq
        self._unsynced = False
        adopted = self.spool.adopt_orphans(first_seq=1)
        if adopted:
            self._seq = self._enqueued = self._pending = self._backlog = adopted
            first = self.spool.segments[0]
            self._cursor = (first, 0, first.first_seq)

    def stats(self) -> Stats:
        stats = super().stats()
        with self.lock:
            return attrs.evolve(stats, spool_corrupt=self.spool.corrupt)

    def _memory_full(self, size: int) -> bool:
        in_memory = self._pending - self._backlog
        return in_memory > 0 and (
            in_memory >= self._max_events or self._pending_bytes + size > self._max_bytes
        )

    def put(self, route: Route, message: Mapping[str, Any], size: int) -> Dropped | None:
        line = encode_record(route, message)  # serialize outside the lock
        dropped: Dropped | None = None
        with self.lock:
            self._enqueued += 1
            if not self.closed and self.spool.bytes + len(line) > self.config.spool_max_bytes:
                dropped = self._make_disk_room(len(line))
            if self.closed or self.spool.bytes + len(line) > self.config.spool_max_bytes:
                self._dropped += 1
                reason = "client is shut down" if self.closed else "spool full"
                dropped = dropped or []
                dropped.append((route, message, reason))
                return dropped
            self._seq += 1
            segment = self.spool.append(line, self._seq)
            if self._backlog == 0 and not self._memory_full(size):
                queue = self._queues[route]
                queue.append((self._seq, message, size))
                self._pending_bytes += size
                if len(queue) == self._batch_size:
                    self._wake()
            else:
                if self._backlog == 0:
                    self._cursor = (segment, segment.size - len(line), self._seq)
                self._backlog += 1
                if self._backlog == self._batch_size:
                    self._wake()
            self._pending += 1
            if self.config.spool_fsync == "event":
                self.spool.fsync()
            else:
                self._unsynced = True
        return dropped

    def _wake(self) -> None:
        self.ready.notify()
        if self.on_ready is not None:
            self.on_ready()

    def _make_disk_room(self, needed: int) -> Dropped:
        limit = self.config.spool_max_bytes
        if self.config.overflow == "block":
            deadline = time.monotonic() + self.config.block_timeout
            while self.spool.bytes + needed > limit and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.settled.wait(remaining)
        elif self.config.overflow == "drop_oldest":
            while self.spool.bytes + needed > limit and self._drop_oldest_segment():
                pass
        return []

    def _drop_oldest_segment(self) -> bool:
        """Drops the oldest segment that is on disk only (not in memory, not in flight)."""
        if self._cursor is None or self._backlog == 0:
            return False
        segment, offset, _ = self._cursor
        candidates = [s for s in self.spool.segments if s.first_seq >= segment.first_seq]
        if offset > 0:
            candidates = candidates[1:]
        if len(candidates) < 2:  # keep the segment being written
            return False
        victim, after = candidates[0], candidates[1]
        self.spool.drop_segment(victim)
        self._backlog -= victim.records
        self._pending -= victim.records
        self._dropped += victim.records
        self._cursor = (after, 0, after.first_seq)
        return True

    def _refill(self) -> None:
        """Reads backlog records from disk into memory, in order, as the bounds allow."""
        while self._backlog and self._cursor is not None:
            in_memory = self._pending - self._backlog
            room = min(self._batch_size, self._max_events - in_memory, self._backlog)
            if room <= 0 or self._pending_bytes >= self._max_bytes:
                return
            segment, offset, seq = self._cursor
            records, position = self.spool.read(segment, offset, room)
            for route, message in records:
                size = estimate_size(message)
                self._queues[route].append((seq, message, size))
                self._pending_bytes += size
                seq += 1
            self._backlog -= len(records)
            if position >= segment.size and segment is not self.spool.segments[-1]:
                following = self.spool.segments[self.spool.segments.index(segment) + 1]
                self._cursor = (following, 0, following.first_seq)
            else:
                self._cursor = (segment, position, seq)
                if not records:
                    return

    def _take_locked(self) -> Batch | float | None:
        if not self.closed:
            self._refill()
            if self._unsynced and self.config.spool_fsync == "batch":
                self.spool.fsync()
                self._unsynced = False
        result = super()._take_locked()
        if result is None and not self.closed and self._backlog:
            return self.config.flush_interval  # memory is full of batches in flight
        return result

    def _on_settled(self, items: Iterable[Item]) -> None:
        if not self.closed:
            self.spool.settle([item[0] for item in items])
            if self._backlog:
                self._wake()

    def _oldest_unsettled(self) -> float:
        oldest = super()._oldest_unsettled()
        if self._backlog and self._cursor is not None:
            oldest = min(oldest, self._cursor[2])
        return oldest

    def close(self) -> Dropped:
        """Stops; nothing is dropped: what has not settled stays in the spool for the next
        process that opens ``spool_dir``."""
        with self.lock:
            if self.closed:
                return []
            self.closed = True
            for batch in self._inflight:
                batch.abandoned = True
            self._inflight.clear()
            for queue in self._queues.values():
                queue.clear()
            self._pending_bytes = 0
            if self.config.spool_fsync != "none":
                self.spool.fsync()
            self.spool.close()
            self.ready.notify_all()
            self.settled.notify_all()
        return []

    def forget_after_fork(self) -> None:
        self.spool.forget_after_fork()
