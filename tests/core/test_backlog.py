"""The queue over its two backlogs: the in-memory one and the spool are interchangeable.

Random sequences of the calls the client and the workers make (put, take, settle as sent,
rejected or dropped, flush) are run against a queue keeping its records in memory and one
keeping them in a real spool on disk: within the queue's bounds both hand out the same batches
in the same order and keep the same books, and the books always balance.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixtrack import Config
from mixtrack._delivery.backlog import MemoryBacklog
from mixtrack._delivery.lanes import Batch, Lane
from mixtrack._delivery.queue import MessageQueue
from mixtrack._delivery.spool import Spool

ROUTES = ["track", "engage", "groups", "import"]

put = st.tuples(st.just("put"), st.sampled_from(ROUTES), st.integers(1, 400))
take = st.tuples(st.just("take"), st.just(""), st.just(0))
settle = st.tuples(st.just("settle"), st.sampled_from(["sent", "rejected", "dropped"]), st.just(0))
flush = st.tuples(st.just("flush"), st.just(""), st.just(0))
steps = st.lists(st.one_of(put, put, put, take, settle, flush), max_size=120)


def config(**options: object) -> Config:
    return Config(token="t", batch_size=4, flush_interval=3600.0, **options)  # type: ignore[arg-type]


def run(queue: MessageQueue, plan: list[tuple[str, str, int]]) -> list[object]:
    """Runs ``plan`` on ``queue``; returns what it handed out and booked, step by step."""
    seen: list[object] = []
    taken: list[Batch] = []
    number = 0
    for op, arg, size in plan:
        if op == "put":
            number += 1
            record = b'{"n":%d,"pad":"%s"}' % (number, b"x" * size)
            seen.append(("put", queue.put(arg, record)))  # type: ignore[arg-type]
        elif op == "take":
            batch = queue.take_nowait()
            if isinstance(batch, Batch):
                taken.append(batch)
                seen.append(
                    ("batch", batch.route, batch.first, batch.records.body(0, len(batch.records)))
                )
            else:
                seen.append(("nothing due",))
        elif op == "settle" and taken:
            batch = taken.pop(0)
            count = len(batch.records)
            queue.settle(batch, 0, count, **{arg: count}, cause="rejected by the test")
        elif op == "flush":
            seen.append(("flush", dict(queue.request_flush())))
        stats = queue.stats()
        assert stats.enqueued == stats.sent + stats.rejected + stats.dropped + stats.pending
        seen.append(stats)
    return seen


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_in_memory_and_spool_backlogs_agree(
    tmp_path: Path, plan: list[tuple[str, str, int]]
) -> None:
    memory = MessageQueue(config())
    spool = Spool(tmp_path / "spool", segment_bytes=2048)
    on_disk = MessageQueue(config(spool_dir=str(tmp_path / "spool")), spool)
    try:
        assert run(memory, plan) == run(on_disk, plan)
    finally:
        memory.close()
        on_disk.close()


def test_the_in_memory_backlog_is_the_queue_bound_and_drops_the_oldest() -> None:
    queue = MessageQueue(config(max_queue_events=10, overflow="drop_oldest"))
    dropped = [queue.put("track", b'{"n":%d}' % n) for n in range(25)]
    lost = [drop.record for drops in dropped if drops for drop in drops]
    assert lost == [b'{"n":%d}' % n for n in range(15)]  # the oldest, one per put
    assert {drop.cause for drops in dropped if drops for drop in drops} == {"queue full"}
    backlog = queue.backlog
    assert isinstance(backlog, MemoryBacklog)
    stats = queue.stats()
    assert stats.pending == backlog.count == 10 and stats.drops == {"queue full": 15}
    batch = queue.take_nowait()
    assert isinstance(batch, Batch)
    queue.settle(batch, 0, len(batch.records), sent=len(batch.records))
    assert backlog.count == queue.stats().pending == 10 - len(batch.records)
    assert backlog.bytes == sum(len(b'{"n":%d}' % n) for n in range(15 + len(batch.records), 25))


def test_the_in_memory_backlog_loses_what_is_pending_at_close_and_the_spool_keeps_it(
    tmp_path: Path,
) -> None:
    memory = MessageQueue(config())
    on_disk = MessageQueue(config(spool_dir=str(tmp_path)), Spool(tmp_path))
    for queue in (memory, on_disk):
        for n in range(6):
            queue.put("track", b'{"n":%d}' % n)
        assert isinstance(queue.take_nowait(), Batch)  # 4 in flight, 2 queued
    lost = memory.close()
    assert [drop.record for drop in lost] == [b'{"n":%d}' % n for n in range(6)]
    assert memory.stats().drops == {"shutdown deadline": 6} and memory.stats().pending == 0
    assert on_disk.close() == [] and on_disk.stats().pending == 6
    later = Spool(tmp_path)
    assert [record for _, record in later.adopt_orphans()] == [b'{"n":%d}' % n for n in range(6)]
    later.close()


@pytest.mark.parametrize("overflow", ["drop_newest", "block"])
def test_a_full_in_memory_backlog_refuses_under_the_other_policies(overflow: str) -> None:
    queue = MessageQueue(config(max_queue_events=3, overflow=overflow, block_timeout=0.01))
    results = [queue.put("track", b'{"n":%d}' % n) for n in range(5)]
    assert results[:3] == [None, None, None]
    assert [[drop.record for drop in r or []] for r in results[3:]] == [[b'{"n":3}'], [b'{"n":4}']]
    assert queue.stats().pending == 3 and queue.stats().drops == {"queue full": 2}


def test_a_batch_body_fills_up_to_max_batch_bytes_exactly() -> None:
    """Three 10-byte records make a 34-byte body ``[r,r,r]``: with max_batch_bytes=34 they
    are one batch; the fourth starts the next, and the full one is due at once."""
    lane = Lane()
    record = b'{"n":"01"}'
    assert len(record) == 10
    filled = [lane.add(record, 100, 34, n) for n in range(4)]
    assert filled == [False, False, False, True]  # the fourth sealed the first chunk
    first, second = lane.chunks
    assert len(first) == 3 and len(first.body(0, 3)) == 34
    assert len(second) == 1 and lane.count == 4
