"""The values the queue is made of: a lane of records per endpoint, the batches taken from
it and what a drop reports. Pure."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import attrs

from mixtrack._delivery.records import Records
from mixtrack.protocol.routes import Route

__all__ = ["Batch", "Drop", "Dropped", "Lane", "Mark", "subtract"]


@attrs.frozen
class Drop:
    """A message given up on: its endpoint, its record and the cause."""

    route: Route
    record: bytes
    cause: str
    detail: str = ""

    @property
    def reason(self) -> str:
        return f"{self.cause}: {self.detail}" if self.detail else self.cause


Dropped = list[Drop]
Mark = Mapping[Route, int]  # per lane: the index a flush waits for


@attrs.define(eq=False)
class Batch:
    """Records taken together for one endpoint: ``records[i]`` has index ``first + i``.
    ``remaining`` are the ranges not settled yet (a 413 splits, parts settle one by one)."""

    route: Route
    first: int
    records: Records
    remaining: list[tuple[int, int]]
    abandoned: bool = False

    def oldest(self) -> int:
        return self.first + min(start for start, _ in self.remaining)


@attrs.define(eq=False)
class Lane:
    """One endpoint's records: in memory ``[head, head + count)`` (in ``chunks``, of which
    the first ``skip`` records are gone), on disk only (``backlog``) up to ``appended``;
    batches taken and not settled are ``inflight``."""

    chunks: deque[Records] = attrs.Factory(deque)
    skip: int = 0
    head: int = 0  # index of the first record not taken yet
    count: int = 0
    appended: int = 0
    backlog: int = 0
    inflight: list[Batch] = attrs.Factory(list)
    #: for each chunk, when it started (the queue's count of messages then): the oldest
    #: chunk of all lanes is sent first
    started: deque[int] = attrs.Factory(deque)
    open: Records | None = None  # the chunk still filling
    open_count: int = 0

    def oldest_unsettled(self) -> int:
        return min((b.oldest() for b in self.inflight), default=self.head)

    def add(self, record: bytes, batch_size: int, max_batch_bytes: int, order: int) -> bool:
        """Appends a record; True when it filled a batch. (``track()``'s hot path: the
        filling chunk's count is kept here rather than asked of it, and ``Records.append``
        is inlined.)"""
        chunk = self.open
        if chunk is not None:
            data = chunk._data
            n = self.open_count
            # the body would be [data,record]: its length stays within max_batch_bytes
            if n < batch_size and len(data) + len(record) + 3 <= max_batch_bytes:
                data += b","
                data += record
                chunk._ends.append(len(data))
                self.open_count = n = n + 1
                self.count += 1
                return n >= batch_size
        # a new chunk; one cut short by max_batch_bytes is a whole batch too: say so at once
        sealed = chunk is not None and self.open_count < batch_size
        chunk = self.open = Records()
        self.chunks.append(chunk)
        self.started.append(order)
        chunk._data += record
        chunk._ends.append(len(record))
        self.open_count = 1
        self.count += 1
        return sealed or batch_size <= 1

    def unsettled(self) -> list[tuple[Records, int, int]]:
        """What has not settled, as ``(records, start, stop)`` slices: the batches in flight
        (their parts not settled yet), then the records queued."""
        parts = [
            (batch.records, start, stop)
            for batch in self.inflight
            for start, stop in batch.remaining
        ]
        parts.extend(
            (chunk, self.skip if n == 0 else 0, len(chunk)) for n, chunk in enumerate(self.chunks)
        )
        return parts

    def clear(self) -> None:
        """Lets go of every record in memory; batches in flight are abandoned (settling them
        later books nothing)."""
        for batch in self.inflight:
            batch.abandoned = True
        self.inflight.clear()
        self.chunks.clear()
        self.started.clear()
        self.open = None
        self.skip = self.count = 0

    def full(self, batch_size: int) -> bool:
        """A whole batch is ready: the first chunk is complete, or is the filling one and
        has reached ``batch_size`` (sent at once, not at the next tick)."""
        return len(self.chunks) > 1 or (self.open is not None and self.open_count >= batch_size)


def subtract(ranges: list[tuple[int, int]], start: int, stop: int) -> list[tuple[int, int]]:
    """``ranges`` without ``[start, stop)`` (a settled part of a split batch)."""
    left: list[tuple[int, int]] = []
    for a, b in ranges:
        if b <= start or a >= stop:
            left.append((a, b))
            continue
        if a < start:
            left.append((a, start))
        if stop < b:
            left.append((stop, b))
    return left
