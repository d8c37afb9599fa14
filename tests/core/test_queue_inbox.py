"""The queue's inbox: records put without the lock are in every count, fill batches at once,
and settle exactly once, however callers, the worker and close() interleave."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from mixtrack import Config
from mixtrack._delivery.backlog import MemoryBacklog
from mixtrack._delivery.lanes import Batch, Dropped
from mixtrack._delivery.queue import INBOX_MAX, MessageQueue


def config(**options: object) -> Config:
    return Config(token="t", flush_interval=3600.0, **options)  # type: ignore[arg-type]


def test_records_in_the_inbox_are_counted_and_flushed() -> None:
    queue = MessageQueue(config())
    for n in range(3):
        assert queue.put("track", b'{"n":%d}' % n) is None
    assert len(queue._inbox) == 3  # none of them took the lock
    stats = queue.stats()
    assert (stats.enqueued, stats.pending) == (3, 3)
    assert queue.request_flush()["track"] == 3
    batch = queue.take_nowait()
    assert isinstance(batch, Batch)
    assert list(batch.records.slice(0, 3)) == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


def test_a_batch_filled_through_the_inbox_is_due_at_once() -> None:
    queue = MessageQueue(config(batch_size=10))
    for n in range(25):
        queue.put("track", b'{"n":%d}' % n)
    first, second = queue.take_nowait(), queue.take_nowait()
    assert isinstance(first, Batch) and isinstance(second, Batch)
    assert [len(first.records), len(second.records)] == [10, 10]
    # the five left make a partial batch, which waits for the interval
    assert isinstance(queue.take_nowait(), float)


def test_the_inbox_never_holds_more_than_fits() -> None:
    queue = MessageQueue(config(max_queue_events=40, batch_size=2000))
    for n in range(100):
        queue.put("track", b'{"n":%d}' % n)
        assert len(queue._inbox) + queue._memory <= 40  # what waits there surely fits
    stats = queue.stats()
    assert (stats.enqueued, stats.pending, stats.dropped) == (100, 40, 60)
    assert stats.drops == {"queue full": 60}
    assert queue._inbox_count <= INBOX_MAX


def test_a_record_too_big_for_the_inbox_keeps_its_place() -> None:
    queue = MessageQueue(config(max_batch_bytes=4096))
    queue.put("track", b'"a"')
    queue.put("track", b'"%s"' % (b"x" * 3000))  # bigger than the inbox takes
    queue.put("track", b'"b"')
    records = []
    queue.request_flush()
    while isinstance(batch := queue.take_nowait(), Batch):
        records.extend(batch.records.slice(0, len(batch.records)))
    assert [r[:2] for r in records] == [b'"a', b'"x', b'"b']


def test_what_the_inbox_holds_at_close_is_booked_by_close() -> None:
    queue = MessageQueue(config())
    for n in range(3):
        queue.put("track", b'{"n":%d}' % n)
    dropped = queue.close()
    assert [(d.record, d.cause) for d in dropped] == [
        (b'{"n":%d}' % n, "shutdown deadline") for n in range(3)
    ]
    assert queue.put("track", b'{"n":3}')[0].cause == "client shut down"  # type: ignore[index]
    stats = queue.stats()
    assert (stats.enqueued, stats.dropped, stats.pending) == (4, 4, 0)


def test_drops_met_by_a_drain_outside_put_are_reported_by_the_next_take() -> None:
    """A backlog tighter than the queue's bounds: the inbox takes more than it can hold, and
    stats() meets the overflow; the drops reach on_drops from the worker's next take."""
    queue = MessageQueue(config(), MemoryBacklog(max_events=5, max_bytes=10**6))
    reported: list[Dropped] = []
    queue.on_drops = reported.append
    for n in range(8):
        assert queue.put("track", b'{"n":%d}' % n) is None
    stats = queue.stats()
    assert (stats.enqueued, stats.pending, stats.dropped) == (8, 5, 3)
    assert reported == []
    queue.take_nowait()
    assert [[(d.record, d.cause) for d in batch] for batch in reported] == [
        [(b'{"n":%d}' % n, "queue full") for n in (5, 6, 7)]
    ]


@pytest.mark.parametrize("overflow", ["drop_newest", "drop_oldest"])
def test_racing_callers_worker_and_close_settle_every_record_once(overflow: str) -> None:
    """Four callers put 5,000 records each into a queue of 500 while a worker takes and
    settles batches and, midway, the queue closes: every record is sent or dropped exactly
    once, and every drop is reported once (returned by put or close, or to on_drops)."""
    queue = MessageQueue(config(max_queue_events=500, batch_size=50, overflow=overflow))
    reported: list[Dropped] = []
    report_lock = threading.Lock()

    def report(dropped: Dropped | None) -> None:
        if dropped:
            with report_lock:
                reported.append(dropped)

    queue.on_drops = report
    sent: list[bytes] = []
    started = threading.Barrier(6)

    def caller(k: int) -> None:
        started.wait()
        for n in range(5000):
            report(queue.put("track", b'{"k":%d,"n":%d}' % (k, n)))

    def worker() -> None:
        started.wait()
        while True:
            batch = queue.take_nowait()
            if batch is None:
                return
            if isinstance(batch, float):
                queue.request_flush()
                continue
            for start, stop in list(batch.remaining):  # not the dropped oldest ones
                if queue.settle(batch, start, stop, sent=stop - start):
                    sent.extend(batch.records.slice(start, stop))

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=worker))
    for thread in threads:
        thread.start()
    started.wait()
    while queue.stats().enqueued < 4000:
        pass
    report(queue.close())
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()

    stats = queue.stats()
    dropped = [drop.record for batch in reported for drop in batch]
    everything = Counter(sent) + Counter(dropped)
    assert stats.enqueued == 20_000
    assert stats.pending == 0
    assert stats.sent == len(sent)
    assert stats.dropped == len(dropped)
    assert len(everything) == 20_000 and set(everything.values()) == {1}
    assert stats.drops.get("client shut down", 0) > 0
