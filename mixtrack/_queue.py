"""The bounded queue between callers and the worker, and the books it keeps.

Every message is counted once as enqueued and settles exactly once: sent, rejected or
dropped. ``pending`` is what has not settled yet (queued or in flight), so
``enqueued == sent + rejected + dropped + pending`` holds at every instant a snapshot is taken.
The queue is bounded by messages and by (estimated) bytes, queued and in flight together.

No I/O and no threads here: the worker drives it through ``take`` and ``settle``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from mixtrack._config import Config
from mixtrack._stats import Stats
from mixtrack._wire import Route

__all__ = ["Batch", "Item", "MessageQueue"]

log = logging.getLogger("mixtrack")

Item = tuple[int, Mapping[str, Any], int]  # (sequence number, message, estimated bytes)
Dropped = list[tuple[Route, Mapping[str, Any], str]]
ROUTES: tuple[Route, ...] = ("import", "track", "engage", "groups")
INFINITY = float("inf")


@attrs.define(eq=False)
class Batch:
    """Messages taken together for one endpoint; settles item by item (413 splits it)."""

    route: Route
    items: list[Item]
    unsettled: int = 0
    abandoned: bool = False
    first_seq: int = 0

    def __attrs_post_init__(self) -> None:
        self.unsettled = len(self.items)
        self.first_seq = self.items[0][0]


class MessageQueue:
    """Bounded FIFO queues, one per endpoint, with the delivery books. Thread-safe."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)  # the worker waits for work
        self.settled = threading.Condition(self.lock)  # flush() waits for progress
        #: Called (under the lock, so it must not block) when a full batch is ready: the
        #: asyncio worker's wake-up, since it cannot wait on ``ready``.
        self.on_ready: Callable[[], None] | None = None
        self._queues: dict[Route, deque[Item]] = {route: deque() for route in ROUTES}
        self._inflight: set[Batch] = set()
        self._seq = 0
        self._flush_target = 0
        self._next_tick = time.monotonic() + config.flush_interval
        self._max_events = config.max_queue_events
        self._max_bytes = config.max_queue_bytes
        self._batch_size = config.batch_size
        self.closing = False
        self.closed = False
        self._pending_bytes = 0
        self._enqueued = self._sent = self._rejected = self._dropped = self._pending = 0
        self._retries = self._requests = self._bytes_sent = 0
        self._last_error: str | None = None

    # -- callers -------------------------------------------------------------------------

    def put(self, route: Route, message: Mapping[str, Any], size: int) -> Dropped | None:
        """Queues one message; returns what the overflow policy dropped (for ``on_drop``)."""
        dropped: Dropped | None = None
        with self.lock:
            self._enqueued += 1
            if self.closed or (
                self._pending > 0
                and (
                    self._pending >= self._max_events
                    or self._pending_bytes + size > self._max_bytes
                )
            ):
                dropped = self._make_room(size)
                if self.closed or self._full(size):
                    self._dropped += 1
                    reason = "client is shut down" if self.closed else "queue full"
                    dropped.append((route, message, reason))
                    return dropped
            self._seq += 1
            queue = self._queues[route]
            queue.append((self._seq, message, size))
            self._pending += 1
            self._pending_bytes += size
            if len(queue) == self._batch_size:
                self.ready.notify()
                if self.on_ready is not None:
                    self.on_ready()
        return dropped

    def _make_room(self, size: int) -> Dropped:
        """Applies the overflow policy (block, or drop the oldest); returns what it dropped."""
        dropped: Dropped = []
        if self.config.overflow == "block":
            deadline = time.monotonic() + self.config.block_timeout
            while self._full(size) and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.settled.wait(remaining)
        elif self.config.overflow == "drop_oldest":
            while not self.closed and self._full(size) and self._drop_oldest(dropped):
                pass
        return dropped

    def _full(self, size: int) -> bool:
        return self._pending > 0 and (
            self._pending >= self.config.max_queue_events
            or self._pending_bytes + size > self.config.max_queue_bytes
        )

    def _drop_oldest(self, dropped: Dropped) -> bool:
        oldest = min((q for q in self._queues.values() if q), key=lambda q: q[0][0], default=None)
        if oldest is None:
            return False  # everything pending is in flight
        _, message, size = oldest.popleft()
        route = next(r for r, q in self._queues.items() if q is oldest)
        self._pending -= 1
        self._pending_bytes -= size
        self._dropped += 1
        dropped.append((route, message, "queue full (oldest dropped)"))
        return True

    def request_flush(self) -> int:
        """Asks the worker to send partial batches now; returns the sequence to wait for."""
        with self.lock:
            self._flush_target = max(self._flush_target, self._seq)
            self.ready.notify_all()
            return self._seq

    def wait_settled(self, target: int, deadline: float) -> bool:
        """Waits until every message up to ``target`` settled, or the deadline passes."""
        with self.lock:
            while self._oldest_unsettled() <= target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.settled.wait(remaining)
            return True

    def _oldest_unsettled(self) -> float:
        heads = [q[0][0] for q in self._queues.values() if q]
        heads.extend(b.first_seq for b in self._inflight)
        return min(heads, default=INFINITY)

    # -- the worker ----------------------------------------------------------------------

    def take(self) -> Batch | None:
        """Blocks until a batch is due; None when the queue is closed and empty."""
        with self.lock:
            while True:
                due = self._take_locked()
                if not isinstance(due, float):
                    return due
                self.ready.wait(due)

    def take_nowait(self) -> Batch | float | None:
        """``take`` for an event loop: a batch, else the seconds until one may be due (wait
        that long or until ``on_ready``), or None when the queue is closed and empty."""
        with self.lock:
            return self._take_locked()

    def _take_locked(self) -> Batch | float | None:
        if self.closed:
            return None
        now = time.monotonic()
        tick = now >= self._next_tick
        if tick:
            self._next_tick = now + self.config.flush_interval
        batch = self._due_batch(partial_ok=tick or self.closing)
        if batch is not None:
            self._inflight.add(batch)
            return batch
        if self.closing and not any(self._queues.values()):
            return None
        return max(0.0, self._next_tick - now)

    def give_back(self, batch: Batch, items: Iterable[Item]) -> None:
        """Returns unsettled items of an interrupted batch to the head of their queue (an
        event loop that closed mid-delivery); they stay pending and are sent again later."""
        with self.lock:
            if batch.abandoned:
                return
            self._inflight.discard(batch)
            queue = self._queues[batch.route]
            merged = sorted([*items, *queue], key=lambda item: item[0])
            queue.clear()
            queue.extend(merged)
            self.settled.notify_all()

    def is_settled(self, target: int) -> bool:
        """True when every message up to sequence ``target`` has settled (non-blocking)."""
        with self.lock:
            return self._oldest_unsettled() > target

    def _due_batch(self, *, partial_ok: bool) -> Batch | None:
        config = self.config
        candidates = [
            (q[0][0], route, q)
            for route, q in self._queues.items()
            if q and (partial_ok or len(q) >= config.batch_size or q[0][0] <= self._flush_target)
        ]
        if not candidates:
            return None
        _, route, queue = min(candidates, key=lambda c: c[0])
        items: list[Item] = []
        size = 0
        while queue and len(items) < config.batch_size:
            item_size = queue[0][2]
            if items and size + item_size > config.max_batch_bytes:
                break
            items.append(queue.popleft())
            size += item_size
        return Batch(route, items)

    def settle(
        self,
        batch: Batch,
        items: Iterable[Item],
        *,
        sent: int = 0,
        rejected: int = 0,
        dropped: int = 0,
        error: str | None = None,
    ) -> None:
        """Books the fate of some of a batch's items (their count = sent + rejected + dropped)."""
        count = sent + rejected + dropped
        size = sum(item[2] for item in items)
        with self.lock:
            if error is not None:
                self._last_error = error
            if batch.abandoned:
                return  # already booked as dropped by shutdown
            self._sent += sent
            self._rejected += rejected
            self._dropped += dropped
            self._pending -= count
            self._pending_bytes -= size
            batch.unsettled -= count
            if batch.unsettled <= 0:
                self._inflight.discard(batch)
            self._on_settled(items)
            self.settled.notify_all()

    def _on_settled(self, items: Iterable[Item]) -> None:
        """Called under the lock after items settled (the spool deletes done segments)."""

    def record_request(self, body_bytes: int) -> None:
        with self.lock:
            self._requests += 1
            self._bytes_sent += body_bytes

    def record_retry(self, error: str) -> None:
        with self.lock:
            self._retries += 1
            self._last_error = error

    # -- lifecycle -----------------------------------------------------------------------

    def begin_close(self) -> int:
        with self.lock:
            self.closing = True
            self._flush_target = self._seq
            self.ready.notify_all()
            return self._seq

    def close(self) -> Dropped:
        """Stops the queue; what has not settled yet is booked as dropped and returned."""
        dropped: Dropped = []
        with self.lock:
            self.closed = True
            count = 0
            for route, queue in self._queues.items():
                count += len(queue)
                dropped.extend((route, message, "shutdown deadline") for _, message, _ in queue)
                queue.clear()
            for batch in self._inflight:
                # which items of a split batch settled is not tracked: report the first ones
                batch.abandoned = True
                count += batch.unsettled
                dropped.extend(
                    (batch.route, message, "shutdown deadline (in flight)")
                    for _, message, _ in batch.items[: batch.unsettled]
                )
            self._inflight.clear()
            self._pending -= count
            self._dropped += count
            self._pending_bytes = 0
            self.ready.notify_all()
            self.settled.notify_all()
        return dropped

    def stats(self) -> Stats:
        with self.lock:
            return Stats(
                enqueued=self._enqueued,
                sent=self._sent,
                rejected=self._rejected,
                dropped=self._dropped,
                pending=self._pending,
                retries=self._retries,
                requests=self._requests,
                bytes_sent=self._bytes_sent,
                last_error=self._last_error,
            )
