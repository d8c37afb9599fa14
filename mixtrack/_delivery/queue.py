"""The bounded queue between callers and the worker, and the books it keeps.

Every message is counted once as enqueued and settles exactly once: sent, rejected or
dropped. ``pending`` is what has not settled yet (queued or in flight), so
``enqueued == sent + rejected + dropped + pending`` holds at every instant a snapshot is taken.

Messages are held as their serialized records, one lane per endpoint, joined batch by batch into one
buffer (:class:`~mixtrack._delivery.records.Records`): a queued message costs its JSON and four
bytes, and a batch's body is a single copy. A record's place is its *index* in its lane, so a
batch is ``(route, first index, records)`` and a flush waits until every lane has settled up to
the index it had reached.

Every record is added to the queue's :class:`~mixtrack._delivery.backlog.Backlog` and acknowledged
to it once settled; the backlog's bounds are the queue's bounds, and the overflow policy makes room
in it. The lanes in memory are a window of at most
``max_queue_events`` records and ``max_queue_bytes`` onto the backlog: with the in-memory
backlog they hold every pending record; with the spool, what does not fit waits on disk
(``Lane.backlog``) and is read back as batches settle.

``put`` is ``track()``'s hot path, so most records do not take the lock: they join an *inbox*
(a deque, whose append is atomic) and are moved into the lanes and the books, in call order, by
the caller that fills it or by whichever entry point next takes the lock (``take``, ``stats``, a
flush, ``close``). The inbox takes only as many records as surely fit in the queue and in every
lane's filling batch (``_retune``), so the overflow policy meets a record on its caller's thread
(a drop met by another entry point, which only callers racing each other allow, is reported by
the worker's next ``take``) and a full batch is still sent at once. A spool, whose ``add`` does
I/O, and ``overflow="block"``, which waits, put every record under the lock.

No I/O of its own and no threads here: the workers drive it through ``take`` and ``settle``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from mixtrack._config import Config
from mixtrack._delivery.backlog import Backlog, MemoryBacklog
from mixtrack._delivery.lanes import Batch, Drop, Dropped, Lane, Mark, subtract
from mixtrack._delivery.stats import Stats
from mixtrack.protocol.routes import ROUTES, Route

__all__ = ["Batch", "Drop", "Dropped", "Mark", "MessageQueue"]

#: The most records the inbox gathers before a caller moves them into the lanes.
INBOX_MAX = 256


class MessageQueue:
    """Bounded FIFO lanes, one per endpoint, with the delivery books. Thread-safe."""

    def __init__(self, config: Config, backlog: Backlog | None = None) -> None:
        self.config = config
        self.backlog: Backlog = backlog or MemoryBacklog(
            config.max_queue_events, config.max_queue_bytes
        )
        self._add = self.backlog.add  # bound once: put() is track()'s hot path
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)  # the worker waits for work
        self.settled = threading.Condition(self.lock)  # flush() waits for progress
        #: Called (under the lock, so it must not block) when a batch is ready: the
        #: asyncio worker's wake-up, since it cannot wait on ``ready``.
        self.on_ready: Callable[[], None] | None = None
        #: Called (outside the lock) with what a drain by the worker, a flush or ``stats``
        #: dropped; a caller's own drain returns its drops from ``put``.
        self.on_drops: Callable[[Dropped], None] | None = None
        self._late: Dropped = []
        self._lanes: dict[Route, Lane] = {route: Lane() for route in ROUTES}
        self._returned: deque[Batch] = deque()
        self._flush_mark: dict[Route, int] = dict.fromkeys(ROUTES, 0)
        self._next_tick = time.monotonic() + config.flush_interval
        self._batch_size = config.batch_size
        self._max_batch_bytes = config.max_batch_bytes
        self._max_events = config.max_queue_events
        self._max_bytes = config.max_queue_bytes
        self.closing = False
        self.closed = False
        self._memory = 0  # messages in the window (memory): queued and in flight
        self._memory_bytes = 0
        self._enqueued = self._sent = self._rejected = self._dropped = self._pending = 0
        self._retries = self._requests = self._bytes_sent = 0
        self._drops: dict[str, int] = {}
        self._last_error: str | None = None
        # records put without the lock, waiting to join their lanes (see put and _retune)
        self._inbox: deque[tuple[Route, bytes]] = deque()
        self._inbox_on = not self.backlog.durable and config.overflow != "block"
        self._inbox_count, self._inbox_size = 1, -1
        self._retune()

    # -- callers -------------------------------------------------------------------------

    def put(self, route: Route, record: bytes) -> Dropped | None:
        """Queues one record; returns what was dropped to make room or refused (for
        ``on_drop`` and the drop log).

        ``track()``'s hot path. Most records only join the inbox, without the lock: as many
        as :meth:`_retune` found surely fit in the queue without a drop and without filling a
        batch. The caller that fills the inbox (or finds the queue closed) moves it into the
        lanes under the lock; so does every other entry point before it looks at the lanes.
        """
        if len(record) <= self._inbox_size:
            inbox = self._inbox
            inbox.append((route, record))
            # closed is read after the append: close() empties the inbox once more after
            # setting it, so each record is either booked by close() or refused here
            if len(inbox) < self._inbox_count and not self.closed:
                return None
            with self.lock:
                return self._drain()
        with self.lock:
            dropped = self._drain()
            more = self._put(route, record)
            self._retune()
        if dropped and more:
            return [*dropped, *more]
        return dropped or more

    def _drain(self) -> Dropped | None:
        """Moves the inbox into the lanes (under the lock), in the order of the calls."""
        inbox = self._inbox
        if not inbox:
            return None
        dropped: Dropped = []
        take, put = inbox.popleft, self._put
        for _ in range(len(inbox)):  # what others append meanwhile waits for the next drain
            more = put(*take())
            if more:
                dropped.extend(more)
        self._retune()
        return dropped or None

    def _retune(self) -> None:
        """Sets how many records the inbox may gather, and how big each may be, before a
        caller takes the lock: no more than surely fit in the queue (so the overflow policy
        is applied by the caller that meets it) and than a lane's filling batch still takes
        (so a full batch is sent at once). With a durable backlog, or ``overflow="block"``,
        every record is put under the lock: adding may fail or wait."""
        if not self._inbox_on:
            return
        count = min(INBOX_MAX, self._max_events - self._memory)
        room = self._max_bytes - self._memory_bytes
        for lane in self._lanes.values():
            chunk = lane.open
            if chunk is None:
                count = min(count, self._batch_size)
                room = min(room, self._max_batch_bytes)
            else:
                count = min(count, self._batch_size - lane.open_count)
                room = min(room, self._max_batch_bytes - len(chunk._data))
        if count < 2:
            self._inbox_count, self._inbox_size = 1, -1
            return
        self._inbox_count = count
        # each record adds at most its length and a comma to a batch's body ("[...]")
        self._inbox_size = (room - 2) // count - 1

    def _put(self, route: Route, record: bytes) -> Dropped | None:
        """``put`` under the lock: the record joins the backlog and its lane's window."""
        size = len(record)
        dropped: Dropped | None = None
        add = self._add
        self._enqueued += 1
        if self.closed:
            return self._refuse(route, record, "client shut down")
        try:
            if not add(route, record):
                dropped = self._make_room(route, size)
                if self.closed or not add(route, record):
                    return [*dropped, *self._refuse(route, record, self.backlog.full_cause)]
        except OSError as exc:  # the disk filled or failed: counted, never raised
            return [*(dropped or []), *self._refuse(route, record, "spool error", str(exc))]
        lane = self._lanes[route]
        lane.appended += 1
        self._pending += 1
        memory = self._memory
        if lane.backlog or (
            memory and (memory >= self._max_events or self._memory_bytes + size > self._max_bytes)
        ):
            # the window is full: the record waits in the backlog (never with the
            # in-memory one, whose bounds are the window's)
            lane.backlog += 1
            if lane.backlog == self._batch_size:
                self._wake()
            return dropped
        self._memory = memory + 1
        self._memory_bytes += size
        if lane.add(record, self._batch_size, self._max_batch_bytes, self._enqueued):
            self._wake()
        return dropped

    def refuse(self, route: Route, record: bytes, cause: str, detail: str = "") -> Dropped:
        """Books a message that is given up on before it is queued (enqueued and dropped)."""
        with self.lock:
            self._enqueued += 1
            return self._refuse(route, record, cause, detail)

    def _refuse(self, route: Route, record: bytes, cause: str, detail: str = "") -> Dropped:
        self._count_drops(cause, 1)
        return [Drop(route, record, cause, detail)]

    def _count_drops(self, cause: str, count: int) -> None:
        """Books ``count`` messages dropped for ``cause`` (in ``dropped`` and ``drops``)."""
        self._dropped += count
        self._drops[cause] = self._drops.get(cause, 0) + count

    def _wake(self) -> None:
        self.ready.notify()
        if self.on_ready is not None:
            self.on_ready()

    def _memory_full(self, size: int) -> bool:
        return self._memory > 0 and (
            self._memory >= self._max_events or self._memory_bytes + size > self._max_bytes
        )

    def _make_room(self, route: Route, size: int) -> Dropped:
        """Applies the overflow policy (block, or drop the oldest) until the backlog has
        room for ``size`` bytes, the client closes or the policy gives up; returns what it
        dropped."""
        backlog = self.backlog
        if self.config.overflow == "block":
            deadline = time.monotonic() + self.config.block_timeout
            while not backlog.has_room(size) and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.settled.wait(remaining)
        elif self.config.overflow == "drop_oldest":
            return self._drop_oldest(route, size)
        return []

    def _drop_oldest(self, route: Route, size: int) -> Dropped:
        """Drops the oldest queued records (never those in flight) until the backlog has room
        for ``size`` bytes: of ``route``'s lane, else of the fullest; as many at once as the
        backlog needs to free room (a spool segment is deleted whole)."""
        backlog = self.backlog
        dropped: Dropped = []
        while not self.closed and not backlog.has_room(size):
            self._refill()
            candidates = {
                name: (lane, run)
                for name, lane in self._lanes.items()
                if lane.count and (run := backlog.droppable(name, lane.head))
            }
            if not candidates:
                break  # everything pending is in flight (or not droppable yet)
            name = (
                route
                if route in candidates
                else max(candidates, key=lambda name: candidates[name][0].count)
            )
            lane, run = candidates[name]
            run = min(run, len(lane.chunks[0]) - lane.skip)
            first, nbytes = lane.head, 0
            for _ in range(run):
                drop = self._drop_first(name, lane, backlog.full_cause)
                nbytes += len(drop.record)
                dropped.append(drop)
            backlog.ack(name, first, run, nbytes)
        return dropped

    def _drop_first(self, route: Route, lane: Lane, cause: str) -> Drop:
        """Drops ``lane``'s first queued record (the caller acknowledges it)."""
        chunk = lane.chunks[0]
        record = chunk[lane.skip]
        lane.skip += 1
        if lane.skip == len(chunk):
            lane.chunks.popleft()
            lane.started.popleft()
            lane.skip = 0
            if chunk is lane.open:
                lane.open = None
        lane.head += 1
        lane.count -= 1
        self._memory -= 1
        self._memory_bytes -= len(record)
        self._pending -= 1
        self._count_drops(cause, 1)
        self.settled.notify_all()
        return Drop(route, record, cause)

    def request_flush(self) -> Mark:
        """Asks the worker to send partial batches now; returns the mark to wait for."""
        with self.lock:
            self._drain_late()
            mark = {route: lane.appended for route, lane in self._lanes.items()}
            self._flush_mark = mark
            self.ready.notify_all()
            if self.on_ready is not None and any(mark.values()):
                self.on_ready()
            return mark

    def wait_settled(self, mark: Mark, deadline: float) -> bool:
        """Waits until every message up to ``mark`` settled, or the deadline passes."""
        with self.lock:
            while not self._settled_up_to(mark):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.settled.wait(remaining)
            return True

    def is_settled(self, mark: Mark) -> bool:
        """True when every message up to ``mark`` has settled (non-blocking)."""
        with self.lock:
            return self._settled_up_to(mark)

    def _settled_up_to(self, mark: Mark) -> bool:
        return all(self._lanes[route].oldest_unsettled() >= index for route, index in mark.items())

    # -- the worker ----------------------------------------------------------------------

    def take(self) -> Batch | None:
        """Blocks until a batch is due; None when the queue is closed (or closing and empty)."""
        with self.lock:
            while True:
                due = self._take_locked()
                if not isinstance(due, float):
                    break
                self.ready.wait(due)
            late = self._pop_late()
        self._report_late(late)
        return due

    def take_nowait(self) -> Batch | float | None:
        """``take`` for an event loop: a batch, else the seconds until one may be due (wait
        that long or until ``on_ready``), or None when the queue is closed and empty."""
        with self.lock:
            due = self._take_locked()
            late = self._pop_late()
        self._report_late(late)
        return due

    def _drain_late(self) -> None:
        """Empties the inbox for an entry point other than ``put``: what that drops is
        reported by the worker's next ``take``."""
        dropped = self._drain()
        if dropped:
            self._late.extend(dropped)
            self._wake()

    def _pop_late(self) -> Dropped:
        late, self._late = self._late, []
        return late

    def _report_late(self, late: Dropped) -> None:
        if late and self.on_drops is not None:
            self.on_drops(late)

    def _take_locked(self) -> Batch | float | None:
        if self.closed:
            return None
        self._drain_late()
        if self._returned:
            return self._returned.popleft()
        self._refill()
        now = time.monotonic()
        tick = now >= self._next_tick
        if tick:
            self._next_tick = now + self.config.flush_interval
        batch = self._due_batch(partial_ok=tick or self.closing)
        if batch is not None:
            self.backlog.before_send()
            return batch
        if self.closing and not any(lane.count or lane.backlog for lane in self._lanes.values()):
            return None
        return max(0.0, self._next_tick - now)

    def _refill(self) -> None:
        """Reads records waiting in the backlog back into memory, in order, as the window's
        bounds allow."""
        for route, lane in self._lanes.items():
            while lane.backlog and not self._memory_full(0):
                room = min(
                    self.config.batch_size,
                    self.config.max_queue_events - self._memory,
                    lane.backlog,
                )
                records = self.backlog.read(route, lane.head + lane.count, room)
                if not records:
                    return
                for record in records:
                    lane.add(record, self._batch_size, self._max_batch_bytes, self._enqueued)
                    self._memory_bytes += len(record)
                self._memory += len(records)
                lane.backlog -= len(records)

    def _due_batch(self, *, partial_ok: bool) -> Batch | None:
        due = [
            (lane.started[0], route, lane)
            for route, lane in self._lanes.items()
            if lane.count
            and (partial_ok or lane.full(self._batch_size) or lane.head < self._flush_mark[route])
        ]
        if not due:
            return None
        _, route, lane = min(due, key=lambda candidate: candidate[0])  # the oldest first
        return self._cut(route, lane)

    def _cut(self, route: Route, lane: Lane) -> Batch:
        records = lane.chunks.popleft()
        lane.started.popleft()
        if records is lane.open:
            lane.open = None
        skip, lane.skip = lane.skip, 0
        taken = len(records) - skip
        batch = Batch(route, lane.head - skip, records, [(skip, len(records))])
        lane.head += taken
        lane.count -= taken
        lane.inflight.append(batch)
        self._retune()  # the lane's next batch starts empty
        return batch

    def give_back(self, batch: Batch, parts: Iterable[tuple[int, int]]) -> None:
        """Keeps an interrupted batch (an event loop that closed mid-delivery) for the next
        worker: its unsettled ``parts`` stay pending and are sent again first."""
        with self.lock:
            if batch.abandoned or self.closed:
                return
            batch.remaining = list(parts)
            if batch.remaining:
                self._returned.append(batch)
                self._wake()

    def settle(
        self,
        batch: Batch,
        start: int,
        stop: int,
        *,
        sent: int = 0,
        rejected: int = 0,
        dropped: int = 0,
        cause: str = "",
        error: str | None = None,
    ) -> bool:
        """Books the fate of records ``start:stop`` of a batch (sent + rejected + dropped of
        them). False when shutdown had already booked them (as dropped, or left in the spool)."""
        count = stop - start
        size = batch.records.size(start, stop)
        with self.lock:
            if error is not None:
                self._last_error = error
            if batch.abandoned:
                return False
            self._sent += sent
            self._rejected += rejected
            if dropped:
                self._count_drops(cause, dropped)
            self._pending -= count
            self._memory -= count
            self._memory_bytes -= size
            batch.remaining = subtract(batch.remaining, start, stop)
            self.backlog.ack(batch.route, batch.first + start, count, size)
            if not batch.remaining:
                self._lanes[batch.route].inflight.remove(batch)
            self._retune()  # the queue has room again
            self.settled.notify_all()
            if any(lane.backlog for lane in self._lanes.values()):
                self._wake()  # the window has room again for records waiting in the backlog
            return True

    def record_request(self, body_bytes: int) -> None:
        with self.lock:
            self._requests += 1
            self._bytes_sent += body_bytes

    def record_retry(self, error: str) -> None:
        with self.lock:
            self._retries += 1
            self._last_error = error

    # -- lifecycle -----------------------------------------------------------------------

    def begin_close(self) -> Mark:
        with self.lock:
            self._drain_late()
            self.closing = True
            mark = {route: lane.appended for route, lane in self._lanes.items()}
            self._flush_mark = mark
            self.ready.notify_all()
            if self.on_ready is not None:
                self.on_ready()
            return mark

    def close(self) -> Dropped:
        """Stops the queue. What has not settled is booked as dropped and returned, unless
        the backlog is durable (the spool): then it stays there, pending, for the next
        process."""
        with self.lock:
            if self.closed:
                return []
            late = [*self._pop_late(), *(self._drain() or [])]
            self.closed = True
            # a put that appended after that drain and before closed was set has not seen
            # it: its record is booked here (one that sees it refuses its record itself)
            inbox = self._inbox
            stranded = [inbox.popleft() for _ in range(len(inbox))]
            self._enqueued += len(stranded)
            self._pending += len(stranded)
            self._returned.clear()
            cause = "shutdown deadline"
            dropped = (
                []  # a durable backlog keeps them
                if self.backlog.durable
                else [
                    Drop(route, record, cause)
                    for route, lane in self._lanes.items()
                    for records, start, stop in lane.unsettled()
                    for record in records.slice(start, stop)
                ]
            )
            dropped.extend(Drop(route, record, cause) for route, record in stranded)
            for lane in self._lanes.values():
                lane.clear()
            self._memory = self._memory_bytes = 0
            self.backlog.close()
            if dropped:
                self._pending -= len(dropped)
                self._count_drops(cause, len(dropped))
            self.ready.notify_all()
            self.settled.notify_all()
            if self.on_ready is not None:
                self.on_ready()
        return [*late, *dropped]

    def last_error(self) -> str | None:
        """The latest delivery problem, for humans (None when there has been none)."""
        return self._last_error

    def stats(self) -> Stats:
        with self.lock:
            self._drain_late()
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
                spool_corrupt=self.backlog.corrupt,
                drops=dict(self._drops),
            )
