"""No silent drop: every cause is counted in ``stats().drops`` and logged as a WARNING on the
``mixtrack`` logger, at most one line per cause every 10 seconds, with the counts."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
import pytest

import mixtrack
from mixtrack._delivery.stats import DropLog
from mixtrack.transport import HttpxTransport


def warnings_about(caplog: pytest.LogCaptureFixture, cause: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "mixtrack" and r.levelno == logging.WARNING and f"({cause})" in r.getMessage()
    ]


def hanging_transport(gate: threading.Event) -> HttpxTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        gate.wait(10)
        return httpx.Response(200, json={"code": 200, "status": "OK"})

    return HttpxTransport(client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_queue_full_is_counted_and_logged_once_with_the_count(caplog):
    gate = threading.Event()
    seen: list[str] = []
    client = mixtrack.Client(
        "tok",
        transport=hanging_transport(gate),
        max_queue_events=10,
        batch_size=5,
        max_in_flight=1,
        on_drop=lambda route, message, reason: seen.append(reason),
    )
    try:
        for seq in range(500):
            client.track("user-1", "Overflow", {"seq": seq})
        stats = client.stats()
        lines = warnings_about(caplog, "queue full")
    finally:
        gate.set()
        client.shutdown(5)
    assert stats.drops["queue full"] == stats.dropped >= 480
    assert len(lines) == 1, lines  # rate-limited: one line for the burst
    assert "max_queue_events" in lines[0]
    assert seen and set(seen) == {"queue full"}


def test_retry_budget_is_counted_and_logged(mixtrack_collector, caplog):
    mixtrack_collector.faults("status", status=503, count=1000)
    client = mixtrack.Client(
        "tok",
        api_host=mixtrack_collector.url,
        flush_interval=0.02,
        backoff_initial=0.01,
        max_backoff=0.02,
        max_elapsed=0.3,
    )
    client.track("user-1", "Budget spent")
    result = client.flush(10)  # settled, but falsy: the message was dropped (issue-15)
    assert not result and (result.sent, result.dropped, result.pending) == (0, 1, 0)
    stats = client.stats()
    client.shutdown(1)
    assert stats.drops == {"retry budget": 1} and stats.dropped == 1
    (line,) = warnings_about(caplog, "retry budget")
    assert "dropped 1 messages" in line and "HTTP 503" in line


def test_shutdown_deadline_is_counted_and_logged(caplog):
    gate = threading.Event()
    client = mixtrack.Client("tok", transport=hanging_transport(gate))
    try:
        for seq in range(50):
            client.track("user-1", "Deadline", {"seq": seq})
        assert not client.shutdown(0.3)
    finally:
        gate.set()
    assert client.stats().drops == {"shutdown deadline": 50}
    (line,) = warnings_about(caplog, "shutdown deadline")
    assert "dropped 50 messages" in line


def test_spool_full_is_counted_and_logged(tmp_path, caplog):
    client = mixtrack.Client(
        "tok",
        api_host="http://127.0.0.1:9",
        spool_dir=str(tmp_path),
        spool_max_bytes=20_000,
        request_timeout=0.2,
    )
    for seq in range(500):
        client.track("user-1", "Spool full", {"seq": seq})
    stats = client.stats()
    (line,) = warnings_about(caplog, "spool full")  # the rest at shutdown
    client.shutdown(0.2)
    assert stats.drops["spool full"] == stats.dropped > 0
    assert stats.pending + stats.dropped == 500
    assert "spool_max_bytes" in line


def test_tracking_after_shutdown_is_counted_and_logged(caplog):
    client = mixtrack.Client("tok", transport=hanging_transport(threading.Event()))
    client.shutdown(0.1)
    client.track("user-1", "Too late")
    assert client.stats().drops == {"client shut down": 1}
    (line,) = warnings_about(caplog, "client shut down")
    assert "after shutdown()" in line


def test_the_drop_log_says_how_many_were_dropped_since_its_last_line(caplog):
    now = [100.0]
    drops = DropLog(interval=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        drops.note("queue full", 3)
        for _ in range(99):
            now[0] += 0.05
            drops.note("queue full")
        drops.note("retry budget", 2)  # another cause has a line of its own
        now[0] += 10.0
        drops.note("queue full", 5)
    lines: list[Any] = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "dropped 3 messages (queue full), 3 in all" in lines[0]
    assert "dropped 2 messages (retry budget)" in lines[1]
    assert "dropped 104 messages (queue full) in the last 15s, 107 in all" in lines[2]
    assert drops.counts() == {"queue full": 107, "retry budget": 2}


def test_what_the_rate_limit_held_back_is_logged_at_shutdown(caplog):
    gate = threading.Event()
    client = mixtrack.Client(
        "tok", transport=hanging_transport(gate), max_queue_events=10, batch_size=5
    )
    try:
        for seq in range(100):
            client.track("user-1", "Overflow", {"seq": seq})
        dropped = client.stats().drops["queue full"]
    finally:
        gate.set()
        client.shutdown(5)
    lines = warnings_about(caplog, "queue full")
    assert len(lines) == 2, lines  # the first drop at once, the rest at shutdown
    assert f"{dropped} in all" in lines[1] and f"dropped {dropped - 1} messages" in lines[1]
