"""Faults of a misbehaving collector, each against both clients and a scripted local server:
absurd ``Retry-After`` values, an answer trickled a byte at a time, an answer of hundreds of
megabytes, a batch that fills and must leave at once, and what the log says meanwhile."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import mixtrack
from tests._sink import Sink
from tests.reliability._support import balanced

KINDS = ["thread", "asyncio"]
FAST = {"backoff_initial": 0.05, "max_backoff": 0.2, "flush_interval": 0.05}


def first_then_normal(answer: Any, times: int = 1) -> Callable[[str, list[Any]], Any]:
    """A behaviour: ``answer`` to the first ``times`` requests, then answers like Mixpanel."""
    seen = [0]
    lock = threading.Lock()

    def behaviour(route: str, messages: list[Any]) -> Any:
        with lock:
            seen[0] += 1
            return answer if seen[0] <= times else None

    return behaviour


def deliver(
    kind: str,
    url: str,
    events: int,
    *,
    until: Callable[[mixtrack.Stats], bool] | None = None,
    flush: float | None = None,
    **options: Any,
) -> mixtrack.Stats:
    """Tracks ``events`` with a client of ``kind``; then either waits (at most 20 s, without
    calling flush) until ``until(stats)``, or flushes with ``flush`` seconds. Returns the
    stats, read before shutdown."""
    settings = {**FAST, **options}

    def track_all(client: Any) -> None:
        for n in range(events):
            client.track(f"user-{n % 7}", "Fault", {"n": n})

    def done(client: Any) -> bool:
        return until is None or until(client.stats())

    if kind == "thread":
        client = mixtrack.Client("tok", api_host=url, **settings)
        try:
            track_all(client)
            if flush is not None:
                client.flush(timeout=flush)
            limit = time.monotonic() + 20
            while not done(client) and time.monotonic() < limit:
                time.sleep(0.02)
            return client.stats()
        finally:
            client.shutdown(timeout=1)

    async def main() -> mixtrack.Stats:
        client = mixtrack.AsyncClient("tok", api_host=url, **settings)
        try:
            track_all(client)
            await asyncio.sleep(0)
            if flush is not None:
                await client.flush(timeout=flush)
            limit = time.monotonic() + 20
            while not done(client) and time.monotonic() < limit:
                await asyncio.sleep(0.02)
            return client.stats()
        finally:
            await client.aclose(timeout=1)

    return asyncio.run(main())


def settled(stats: mixtrack.Stats) -> bool:
    return stats.enqueued > 0 and stats.pending == 0


# -- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_retry_after_that_is_not_finite_is_refused_and_delivery_goes_on(
    sink: Sink, kind: str, value: str
) -> None:
    sink.behaviour = first_then_normal((503, {"Retry-After": value}, "busy"))
    stats = deliver(kind, sink.url, 120, until=settled, batch_size=50)
    # nothing was booked as an internal error, and later batches went out without a flush
    assert stats.drops == {} and stats.sent == 120, stats
    assert stats.retries >= 1 and balanced(stats)
    assert len(sink.events()) == 120


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", ["3600", "1e308"])
def test_retry_after_longer_than_the_budget_is_cut_to_it(sink: Sink, kind: str, value: str) -> None:
    sink.behaviour = lambda route, messages: (429, {"Retry-After": value}, "slow down")
    stats = deliver(kind, sink.url, 30, until=settled, max_elapsed=1.0)
    # the batch is given up when the budget ends, not an hour (or forever) later
    assert stats.pending == 0, stats
    assert stats.drops == {"retry budget": 30}, stats
    assert "HTTP 429" in (stats.last_error or "") and balanced(stats)


# -- an attempt bounded in time and in memory ----------------------------------------------


def trickle(handler: Any) -> None:
    """An answer that never ends: a byte every 0.3 s, faster than any read timeout."""
    head = b"HTTP/1.1 200 OK\r\nX-Slow: "
    limit = time.monotonic() + 60
    try:
        for byte in head:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.3)
        while time.monotonic() < limit:
            handler.wfile.write(b"a")
            handler.wfile.flush()
            time.sleep(0.3)
    except OSError:
        return  # the client hung up: what a bounded attempt does


@pytest.mark.parametrize("kind", KINDS)
def test_request_timeout_bounds_an_attempt_in_wall_clock_time(sink: Sink, kind: str) -> None:
    sink.behaviour = first_then_normal(trickle)
    stats = deliver(kind, sink.url, 20, flush=15, request_timeout=1.0)
    # the trickled attempt was given up and retried; without the bound it would still hang
    assert stats.sent == 20 and stats.pending == 0, stats
    assert stats.retries >= 1
    assert "timeout" in (stats.last_error or "").lower(), stats.last_error
    assert len(sink.events()) == 20


ANSWER_BYTES = 200 * 1024 * 1024


def flood(handler: Any) -> None:
    """A 200 MB answer, written a megabyte at a time (the server holds one megabyte)."""
    chunk = b" " * (1024 * 1024)
    try:
        handler.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % ANSWER_BYTES
        )
        for _ in range(ANSWER_BYTES // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        return


def rss_peak_reset() -> int:
    """Resets this process's peak RSS to its current RSS (Linux); returns the RSS in bytes."""
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")
    return status_kib("VmRSS") * 1024


def status_kib(field: str) -> int:
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


@pytest.mark.parametrize("kind", KINDS)
def test_a_huge_answer_is_read_up_to_a_cap(sink: Sink, kind: str) -> None:
    sink.behaviour = first_then_normal(flood)
    before = rss_peak_reset()
    stats = deliver(kind, sink.url, 10, flush=15)
    grown = status_kib("VmHWM") * 1024 - before
    assert grown < 64 * 1024 * 1024, f"RSS grew by {grown / 2**20:.0f} MiB"
    # /import's 200 accepts the batch whatever the body says
    assert stats.sent == 10 and balanced(stats), stats


# -- a full batch leaves at once -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_batch_is_sent_without_waiting_for_the_interval(sink: Sink, kind: str) -> None:
    def arrived(stats: mixtrack.Stats) -> bool:
        return len(sink.events()) == 50

    # an interval longer than the wait: only "a full batch goes at once" delivers in time
    stats = deliver(kind, sink.url, 50, until=arrived, batch_size=50, flush_interval=60.0)
    assert len(sink.events()) == 50, stats
    assert stats.requests == 1


# -- what the log says ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_collector_refusing_every_record_logs_a_bounded_number_of_lines(
    sink: Sink, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    # 413 to everything: the batch is split down to single records, each refused
    sink.behaviour = lambda route, messages: (413, {}, "too large")
    caplog.set_level(logging.WARNING, logger="mixtrack")
    stats = deliver(kind, sink.url, 100, flush=20, batch_size=100)
    assert stats.rejected == 100 and balanced(stats), stats
    lines = [r for r in caplog.records if r.name.startswith("mixtrack")]
    assert 1 <= len(lines) <= 5, [r.getMessage() for r in lines]
    host = sink.url.removeprefix("http://")
    assert any(host in r.getMessage() for r in lines), [r.getMessage() for r in lines]


@pytest.mark.parametrize("kind", KINDS)
def test_warnings_name_the_cause_and_the_host_with_one_prefix(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    sink = Sink()
    url = sink.url
    sink.close()  # nothing listens there any more: connection refused
    caplog.set_level(logging.INFO, logger="mixtrack")
    stats = deliver(kind, url, 5, flush=1.0, request_timeout=0.5)
    assert stats.pending == 5  # shutdown books them after this snapshot
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    host = url.removeprefix("http://")
    assert any(host in line and "Connect" in line for line in warnings), warnings
    # the logger's name is the prefix; messages do not repeat it
    assert not [r for r in caplog.records if r.getMessage().startswith("mixtrack:")], [
        r.getMessage() for r in caplog.records
    ]


# -- closes that overlap ----------------------------------------------------------------------


def hang(route: str, messages: list[Any]) -> str:
    return "hang"  # the sink holds the request until the test ends


@pytest.mark.parametrize("kind", KINDS)
def test_a_close_keeps_its_own_budget_while_another_is_under_way(sink: Sink, kind: str) -> None:
    """A collector that never answers: one close with a long budget is under way when a
    second asks with a short one; the second returns in its own budget, unsettled, and the
    first's result stands for both afterwards."""
    sink.behaviour = hang

    def check(second: mixtrack.FlushResult, waited: float, first: mixtrack.FlushResult) -> None:
        assert waited < 1.0, waited  # not the first close's 2 s
        assert not second and second.pending == 1 and second.dropped == 0, second
        assert not first and first.dropped == 1 and first.pending == 0, first

    if kind == "thread":
        client = mixtrack.Client("tok", api_host=sink.url, **FAST)
        client.track("user-1", "Stuck")
        assert not client.flush(timeout=0.3)  # the request is in flight, held
        results: list[mixtrack.FlushResult] = []
        first = threading.Thread(target=lambda: results.append(client.shutdown(timeout=2.0)))
        first.start()
        time.sleep(0.2)
        started = time.monotonic()
        second = client.shutdown(timeout=0.2)
        waited = time.monotonic() - started
        first.join(10)
        check(second, waited, results[0])
        assert client.shutdown(timeout=0) is results[0]
        return

    async def main() -> None:
        client = mixtrack.AsyncClient("tok", api_host=sink.url, **FAST)
        client.track("user-1", "Stuck")
        assert not await client.flush(timeout=0.3)
        first = asyncio.create_task(client.aclose(timeout=2.0))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        second = await client.aclose(timeout=0.2)
        waited = time.monotonic() - started
        result = await first
        check(second, waited, result)
        assert await client.aclose(timeout=0) is result

    asyncio.run(main())


def test_a_close_that_gives_up_waiting_returns_the_other_close_s_result_even_when_falsy() -> None:
    """The other close ended just as this one gave up waiting: its result stands, though it
    is falsy (something was dropped), rather than a fresh look at the books."""
    client = mixtrack.Client("tok", api_host="http://127.0.0.1:9", **FAST)
    try:
        ended = mixtrack.FlushResult(sent=0, rejected=0, dropped=1, pending=0, invalid=0)
        assert not ended
        with client._closing:  # another thread's close, under way
            client._closed_result = ended  # and ending as this one gives up
            assert client.shutdown(timeout=0.05) is ended
    finally:
        client._closed_result = None
        client.shutdown(timeout=0)
