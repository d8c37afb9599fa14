"""Every fault the collector can inject, against a real client: each event ends sent exactly
once, or counted as rejected or dropped, and ``stats()`` balances at every instant."""

from __future__ import annotations

import collections
from typing import Any

import pytest

import mixtrack
from tests.reliability._support import books_checked

EVENTS = 400


def fast_client(collector: Any, dropped: list[Any], **options: Any) -> mixtrack.Client:
    settings: dict[str, Any] = {
        "api_host": collector.url,
        "batch_size": 50,
        "flush_interval": 0.05,
        "max_in_flight": 2,
        "max_backoff": 0.2,
        "request_timeout": 1.0,
        "on_drop": lambda route, message, reason: dropped.append(message),
    }
    settings.update(options)
    return mixtrack.Client("reliability-token", **settings)


def track_all(client: mixtrack.Client, run: str) -> None:
    for seq in range(EVENTS):
        client.track(f"user-{seq % 37}", "Fault run", {"run": run, "seq": seq, "plan": "pro"})


def stored_seqs(collector: Any, run: str) -> list[int]:
    return [e["properties"]["seq"] for e in collector.events("Fault run", run=run)]


def check_exactly_once(collector: Any, client: mixtrack.Client, run: str, dropped: list[Any]):
    stats = client.stats()
    assert stats.pending == 0, stats
    assert stats.enqueued == EVENTS
    assert stats.sent + stats.rejected + stats.dropped == EVENTS
    seqs = stored_seqs(collector, run)
    twice = [seq for seq, n in collections.Counter(seqs).items() if n > 1]
    assert not twice, f"stored more than once: {twice[:10]}"
    assert len(seqs) == stats.sent, (len(seqs), stats)
    lost = {m["properties"]["seq"] for m in dropped} & set(seqs)
    assert not lost, f"counted as dropped but stored: {sorted(lost)[:10]}"
    assert len(dropped) == stats.dropped
    return stats


RECOVERABLE = [
    pytest.param({"kind": "status", "status": 503, "count": 6}, id="5xx-burst"),
    pytest.param({"kind": "status", "status": 500, "seconds": 0.6}, id="5xx-for-a-while"),
    pytest.param({"kind": "status", "status": 429, "retry_after": 0.3, "count": 3}, id="429"),
    pytest.param({"kind": "delay", "delay": 0.3, "count": 6}, id="slow"),
    pytest.param({"kind": "hang", "count": 2}, id="hang"),
    pytest.param({"kind": "reset", "count": 4}, id="reset"),
    pytest.param({"kind": "too_large", "count": 3}, id="413"),
]


@pytest.mark.parametrize("fault", RECOVERABLE)
def test_recoverable_fault_every_event_stored_exactly_once(mixtrack_collector, fault, request):
    run = request.node.callspec.id
    dropped: list[Any] = []
    kind = fault.pop("kind")
    mixtrack_collector.faults(kind, endpoints=["import"], **fault)
    # a 413 on a one-record batch is a refusal: only full batches (no flush tick while
    # tracking, however slow the machine) make "every event stored" exact
    interval = 5.0 if kind == "too_large" else 0.05
    client = fast_client(mixtrack_collector, dropped, request_timeout=0.5, flush_interval=interval)
    try:
        with books_checked(client):
            track_all(client, run)
            assert client.flush(timeout=20)
        stats = check_exactly_once(mixtrack_collector, client, run, dropped)
        assert stats.sent == EVENTS, stats
        if kind != "delay":
            assert stats.retries > 0 or kind == "too_large", stats
    finally:
        mixtrack_collector.clear_faults()
        assert client.shutdown(5)


def test_retry_after_is_honoured(mixtrack_collector):
    dropped: list[Any] = []
    mixtrack_collector.faults("status", status=429, retry_after=0.5, count=1, endpoints=["import"])
    client = fast_client(mixtrack_collector, dropped, max_in_flight=1)
    try:
        started = __import__("time").monotonic()
        client.track("user-1", "Fault run", {"run": "retry-after", "seq": 0})
        assert client.flush(timeout=10)
        # Documented behaviour: never retried sooner than the collector asked.
        assert __import__("time").monotonic() - started >= 0.5
        assert stored_seqs(mixtrack_collector, "retry-after") == [0]
        assert client.stats().retries == 1
    finally:
        client.shutdown(5)


def test_partial_400_keeps_the_good_records_and_counts_the_refused(mixtrack_collector):
    dropped: list[Any] = []
    mixtrack_collector.faults("partial", fraction=0.1, count=4, endpoints=["import"])
    # only full batches of 50 (no timer-cut partial batches), so the count below is exact
    client = fast_client(mixtrack_collector, dropped, flush_interval=30.0)
    try:
        with books_checked(client):
            track_all(client, "partial")
            result = client.flush(timeout=20)
            assert not result and result.rejected == 20 and result.pending == 0
        stats = check_exactly_once(mixtrack_collector, client, "partial", dropped)
        assert stats.rejected == 20  # 4 batches of 50, a tenth of each refused
        assert stats.sent == EVENTS - 20
        assert stats.dropped == 0
    finally:
        client.shutdown(5)


def test_outlasting_the_retry_budget_drops_and_counts(mixtrack_collector):
    dropped: list[Any] = []
    mixtrack_collector.faults("status", status=502, seconds=1.5, endpoints=["import"])
    client = fast_client(mixtrack_collector, dropped, max_attempts=2)
    try:
        with books_checked(client):
            track_all(client, "budget")
            result = client.flush(timeout=20)
            assert not result and result.dropped > 0 and result.pending == 0
        stats = check_exactly_once(mixtrack_collector, client, "budget", dropped)
        assert stats.dropped > 0, stats
    finally:
        client.shutdown(5)


def test_mixed_faults_under_concurrent_callers(mixtrack_collector):
    """Several faults at once, four calling threads: the books still balance exactly."""
    import threading

    dropped: list[Any] = []
    for kind, options in [
        ("status", {"status": 503, "count": 3}),
        ("reset", {"count": 2}),
        ("too_large", {"count": 2}),
        ("partial", {"indices": [0, 7], "count": 2}),
        ("delay", {"delay": 0.2, "count": 2}),
    ]:
        mixtrack_collector.faults(kind, endpoints=["import"], **options)
    # full batches only (no flush tick while tracking): a 413 then never hits one record
    client = fast_client(mixtrack_collector, dropped, request_timeout=0.5, flush_interval=5.0)

    def caller(offset: int) -> None:
        for seq in range(offset, EVENTS, 4):
            client.track(f"user-{seq}", "Fault run", {"run": "mixed", "seq": seq})

    try:
        with books_checked(client):
            threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            result = client.flush(timeout=30)
            assert result.pending == 0 and result.dropped == 0 and result.rejected <= 4
        stats = check_exactly_once(mixtrack_collector, client, "mixed", dropped)
        assert stats.dropped == 0
        assert stats.rejected <= 4
    finally:
        client.shutdown(5)
