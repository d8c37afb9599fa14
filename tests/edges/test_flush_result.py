"""flush() and shutdown() return a FlushResult: truthy only when everything up to the call
was accepted, with the counts of that window."""

from __future__ import annotations

import asyncio
import threading

import pytest

import mixtrack
from mixtrack import FlushResult
from mixtrack.testing import Collector
from tests._redis import free_port
from tests._sink import Sink


def test_the_result_is_truthy_only_when_nothing_was_lost() -> None:
    assert FlushResult(sent=3)
    assert FlushResult()
    assert FlushResult(sent=3, invalid=2)  # refused at the call, logged there
    assert not FlushResult(sent=3, rejected=1)
    assert not FlushResult(dropped=1)
    assert not FlushResult(pending=1)


def test_everything_accepted(mixtrack_collector: Collector) -> None:
    client = mixtrack.Client("tok", api_host=mixtrack_collector.url, flush_interval=0.01)
    for n in range(5):
        client.track("user-42", "Viewed", {"n": n})
    result = client.flush(timeout=5)
    assert result == FlushResult(sent=5)
    if not client.flush():
        pytest.fail("`if client.flush():` must hold after a clean delivery")
    assert client.shutdown(timeout=5) == FlushResult()
    assert len(mixtrack_collector.events("Viewed")) == 5


def test_a_404_that_refused_everything_is_falsy(mixtrack_collector: Collector) -> None:
    client = mixtrack.Client(
        "tok", api_host=f"{mixtrack_collector.url}/no-such-prefix", flush_interval=0.01
    )
    client.track("user-42", "Viewed")
    client.track("user-42", "Bought")
    result = client.flush(timeout=5)
    assert not result
    assert (result.sent, result.rejected, result.dropped, result.pending) == (0, 2, 0, 0)
    assert "404" in (client.stats().last_error or "")
    assert client.shutdown(timeout=5) == FlushResult()  # nothing new since the flush


def test_the_only_event_dropped_against_a_closed_port_is_falsy() -> None:
    client = mixtrack.Client(
        "tok",
        api_host=f"http://127.0.0.1:{free_port()}",
        flush_interval=0.01,
        max_attempts=2,
        max_backoff=0.01,
    )
    client.track("user-42", "Viewed")
    result = client.shutdown(timeout=5)
    assert not result
    assert (result.sent, result.dropped, result.pending) == (0, 1, 0)
    assert client.shutdown(timeout=5) is result  # later calls return the first result


def test_each_flush_reports_its_own_window(mixtrack_collector: Collector) -> None:
    client = mixtrack.Client("tok", api_host=mixtrack_collector.url, flush_interval=0.01)
    mixtrack_collector.faults("status", status=400, count=1)
    client.track("user-42", "Refused")
    first = client.flush(timeout=5)
    client.track("user-42", "Accepted")
    second = client.flush(timeout=5)
    assert not first and (first.sent, first.rejected) == (0, 1)
    assert second and (second.sent, second.rejected) == (1, 0)
    client.shutdown(5)


def test_a_timeout_reports_what_is_still_pending() -> None:
    sink = Sink()
    sink.behaviour = lambda route, messages: "hang"
    client = mixtrack.Client("tok", api_host=sink.url, flush_interval=0.01, max_in_flight=1)
    try:
        for n in range(3):
            client.track("user-42", "Viewed", {"n": n})
        result = client.flush(timeout=0.3)
        assert not result and result.pending == 3 and result.sent == 0
        closed = client.shutdown(timeout=0.3)
        assert not closed and closed.dropped == 3 and closed.pending == 0
    finally:
        sink.release.set()
        sink.close()


def test_messages_tracked_while_a_flush_waits_do_not_count_as_its_pending() -> None:
    sink = Sink()
    gate = threading.Event()
    sink.behaviour = lambda route, messages: "hang" if not gate.is_set() else None
    client = mixtrack.Client("tok", api_host=sink.url, flush_interval=0.01, max_in_flight=1)
    try:
        client.track("user-42", "Before")
        tracker = threading.Timer(0.1, lambda: client.track("user-42", "During"))
        tracker.start()
        result = client.flush(timeout=0.4)
        tracker.join()
        assert not result and result.pending == 1
    finally:
        gate.set()
        sink.release.set()
        client.shutdown(1)
        sink.close()


def test_the_async_client_returns_the_same_results(mixtrack_collector: Collector) -> None:
    async def main() -> tuple[FlushResult, FlushResult, FlushResult]:
        client = mixtrack.AsyncClient("tok", api_host=mixtrack_collector.url, flush_interval=0.01)
        mixtrack_collector.faults("status", status=400, count=1)
        client.track("user-42", "Refused")
        refused = await client.flush(timeout=5)
        client.track("user-42", "Accepted")
        accepted = await client.flush(timeout=5)
        client.track("user-42", "At close")
        closed = await client.aclose(timeout=5)
        assert await client.aclose(timeout=5) is closed
        return refused, accepted, closed

    refused, accepted, closed = asyncio.run(main())
    assert not refused and refused.rejected == 1
    assert accepted == FlushResult(sent=1)
    assert closed == FlushResult(sent=1)


def test_an_async_flush_that_times_out_is_falsy() -> None:
    sink = Sink()
    sink.behaviour = lambda route, messages: "hang"

    async def main() -> tuple[FlushResult, FlushResult]:
        client = mixtrack.AsyncClient("tok", api_host=sink.url, flush_interval=0.01)
        client.track("user-42", "Viewed")
        timed_out = await client.flush(timeout=0.3)
        closed = await client.aclose(timeout=0.3)
        return timed_out, closed

    try:
        timed_out, closed = asyncio.run(main())
    finally:
        sink.release.set()
        sink.close()
    assert not timed_out and timed_out.pending == 1
    assert not closed and closed.dropped == 1


def test_a_forked_child_reports_its_own_books(mixtrack_collector: Collector) -> None:
    import os

    client = mixtrack.Client("tok", api_host=mixtrack_collector.url, flush_interval=0.01)
    for n in range(5):
        client.track("user-42", "Parent", {"n": n})
    assert client.flush(timeout=5) == FlushResult(sent=5)
    pid = os.fork()
    if pid == 0:  # the child: its window starts at zero, not at the parent's counts
        code = 1
        try:
            for n in range(8):
                client.track("user-7", "Child", {"n": n})
            code = 0 if client.flush(timeout=10) == FlushResult(sent=8) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(mixtrack_collector.events("Child")) == 8
    client.track("user-42", "Parent again")
    assert client.flush(timeout=5) == FlushResult(sent=1)
    client.shutdown(5)
