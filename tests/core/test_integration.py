"""The client against a real HTTP server on 127.0.0.1 that fails on purpose."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time

import mixtrack
from tests._sink import Sink


def test_outage_then_rate_limit_then_recovery_delivers_every_event_exactly_once(sink: Sink):
    phase = {"name": "down", "requests": 0}
    lock = threading.Lock()

    def behaviour(route, messages):
        with lock:
            phase["requests"] += 1
            n = phase["requests"]
        if n <= 8:
            return (503, {}, b"Service Unavailable")
        if n <= 14:
            return (429, {"Retry-After": "0.1"}, b"Project exceeded rate limits")
        return None

    sink.behaviour = behaviour
    client = mixtrack.Client(
        "tok",
        api_host=sink.url,
        batch_size=500,
        flush_interval=0.05,
        max_backoff=0.2,
        max_attempts=50,
    )
    for i in range(20_000):
        client.track(f"user-{i % 100}", "Load", {"i": i})
    assert client.flush(timeout=60)
    stats = client.stats()
    client.shutdown(5)
    counts = sink.insert_id_counts()
    assert len(counts) == 20_000
    assert set(counts.values()) == {1}
    assert stats.sent == 20_000 and stats.dropped == 0 and stats.rejected == 0
    assert stats.retries >= 14


def test_shutdown_keeps_its_deadline_with_a_collector_that_never_answers(sink: Sink):
    sink.behaviour = lambda route, messages: "hang"
    client = mixtrack.Client("tok", api_host=sink.url, flush_interval=0.05, request_timeout=30)
    for i in range(1000):
        client.track("u", "E", {"i": i})
    time.sleep(0.2)  # let requests get stuck in flight
    started = time.monotonic()
    delivered = client.shutdown(timeout=1)
    elapsed = time.monotonic() - started
    stats = client.stats()
    assert not delivered and delivered.dropped == 1000 and delivered.sent == 0
    assert elapsed <= 1.2
    assert stats.enqueued == 1000
    assert stats.dropped == 1000 and stats.pending == 0 and stats.sent == 0


def test_process_exit_drains_at_exit_within_the_budget(sink: Sink):
    script = textwrap.dedent(f"""
        import mixtrack
        client = mixtrack.Client("tok", api_host={sink.url!r}, shutdown_timeout=2)
        for i in range(300):
            client.track("u", "At exit", {{"i": i}})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert len(sink.insert_id_counts()) == 300


def test_process_exit_with_a_hung_collector_is_not_held_up(sink: Sink):
    sink.behaviour = lambda route, messages: "hang"
    script = textwrap.dedent(f"""
        import mixtrack
        client = mixtrack.Client("tok", api_host={sink.url!r}, shutdown_timeout=0.5,
                                 flush_interval=0.01, request_timeout=60)
        for i in range(10_000):
            client.track("u", "Pending", {{"i": i}})
    """)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    # interpreter start-up plus the 0.5 s budget; a stuck exit would take 60 s
    assert time.monotonic() - started < 10


def _child_tracks(url: str) -> None:
    client = _shared_client[0]
    for i in range(200):
        client.track("child", "From child", {"i": i})
    client.flush(10)
    os._exit(0 if client.stats().sent == 200 else 1)


_shared_client: list[mixtrack.Client] = []


def test_os_fork_child_gets_its_own_worker_and_each_event_arrives_once(sink: Sink):
    client = mixtrack.Client("tok", api_host=sink.url, flush_interval=0.05)
    for i in range(200):
        client.track("parent", "Before fork", {"i": i})  # pending at fork time
    pid = os.fork()
    if pid == 0:
        try:
            for i in range(200):
                client.track("child", "From child", {"i": i})
            ok = client.flush(10) and client.stats().sent == 200 and client.stats().enqueued == 200
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.flush(10)
    client.shutdown(5)
    counts = sink.insert_id_counts()
    assert set(counts.values()) == {1}
    names = [e["event"] for e in sink.events()]
    assert names.count("Before fork") == 200 and names.count("From child") == 200


def test_multiprocessing_fork_children_deliver_once(sink: Sink):
    client = mixtrack.Client("tok", api_host=sink.url, flush_interval=0.05)
    _shared_client[:] = [client]
    client.track("parent", "Parent event")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_child_tracks, args=(sink.url,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    client.shutdown(5)
    counts = sink.insert_id_counts()
    assert len(counts) == 601 and set(counts.values()) == {1}
