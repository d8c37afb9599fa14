"""What the delivery core promises at default settings, against real local servers:
nothing lost in a burst or an outage while memory allows, shutdown spending its whole budget,
one probe at a time while the collector is down, and a spool that re-sends only what was in
flight when the process was killed."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import mixtrack
from tests._sink import Sink
from tests.reliability._support import books_checked

_OK = json.dumps({"code": 200, "num_records_imported": 1, "status": "OK"}).encode()


class CountingSink:
    """A real HTTP server that keeps only each event's ``$insert_id`` (a 200k burst would
    not fit in memory as dicts) and can be switched down (503) and up again."""

    def __init__(self, *, hold: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.down = False
        self.hold = hold  # seconds a refused request is held, so overlaps can be seen
        self.active = 0
        #: (start, end) of each request answered 503, in server time
        self.refused: list[tuple[float, float]] = []
        self.sink = Sink()
        self.sink.behaviour = self._answer
        self.url = self.sink.url

    def _answer(self, route: str, messages: list[dict[str, Any]]) -> Any:
        if self.down:
            started = time.monotonic()
            time.sleep(self.hold)
            with self.lock:
                self.refused.append((started, time.monotonic()))
            return (503, {}, b"down for maintenance")
        with self.lock:
            self.ids.extend(m["properties"]["$insert_id"] for m in messages)
        return (200, {}, _OK)

    def close(self) -> None:
        self.sink.close()


@pytest.fixture
def counting_sink():
    sink = CountingSink(hold=0.05)
    try:
        yield sink
    finally:
        sink.close()


def test_a_burst_of_200k_events_at_default_settings_is_delivered_whole(counting_sink):
    client = mixtrack.Client("burst-token", api_host=counting_sink.url)
    with books_checked(client):
        for seq in range(200_000):
            client.track(f"user-{seq % 1000}", "Burst", {"seq": seq, "plan": "pro", "trial": False})
        assert client.flush(timeout=120)
    stats = client.stats()
    assert client.shutdown(5)
    assert stats.dropped == 0 and stats.sent == 200_000, stats
    assert len(counting_sink.ids) == 200_000 and len(set(counting_sink.ids)) == 200_000


def test_an_outage_many_attempts_long_loses_nothing_and_is_probed_one_at_a_time(
    counting_sink,
):
    # waits of 0.15-0.3 s: far longer than a request already sent may take to arrive, so
    # that every request after the first wave is a probe
    client = mixtrack.Client(
        "outage-token",
        api_host=counting_sink.url,
        flush_interval=0.05,
        batch_size=100,
        backoff_initial=0.3,
        max_backoff=0.3,
    )
    seq = 0

    def track(count: int) -> None:
        nonlocal seq
        for _ in range(count):
            client.track(f"user-{seq % 50}", "Through an outage", {"seq": seq})
            seq += 1

    track(500)
    # a flush that has returned no longer cuts the waits: 1.5 s into the outage, its
    # deadline's "last attempt" would otherwise send every waiting batch at once
    assert client.flush(2)
    counting_sink.down = True
    with books_checked(client):
        # tracking goes on while the collector refuses, for more than twice the attempts of
        # the old ten-attempt budget
        give_up = time.monotonic() + 120
        while len(counting_sink.refused) < 25 and time.monotonic() < give_up:
            track(20)
            time.sleep(0.01)
        counting_sink.down = False
        assert client.flush(30)
    stats = client.stats()
    assert client.shutdown(5)
    assert stats.dropped == 0 and stats.sent == seq, stats
    assert stats.retries >= 20
    assert sorted(counting_sink.ids) == sorted(set(counting_sink.ids))  # each once
    assert len(counting_sink.ids) == seq
    # after the requests already in flight when it went down, one probe at a time
    refused = sorted(counting_sink.refused)
    first_wave_end = max(end for _, end in refused[: client.config.max_in_flight])
    later = [(start, end) for start, end in refused if start > first_wave_end]
    assert len(later) >= 20
    overlapping = [(a, b) for a, b in itertools.pairwise(later) if b[0] < a[1]]
    assert not overlapping, f"{len(overlapping)} probes overlapped another"


@pytest.mark.slow
def test_an_outage_of_a_minute_at_default_settings_is_delivered_once_after_recovery(
    mixtrack_collector,
):
    """The one long outage test: defaults only (2 s backoff doubling to 60 s), 60 s down."""
    client = mixtrack.Client("long-outage-token", api_host=mixtrack_collector.url)
    mixtrack_collector.faults("status", status=503, seconds=60)
    before = mixtrack_collector.stats()["requests"]
    started = time.monotonic()
    seq = 0
    with books_checked(client):
        while time.monotonic() - started < 62:
            for _ in range(50):
                client.track(f"user-{seq % 100}", "Long outage", {"seq": seq})
                seq += 1
            time.sleep(0.25)
        assert client.flush(timeout=30)  # its deadline cuts the backoff: a last attempt
    stats = client.stats()
    assert client.shutdown(5)
    assert stats.dropped == 0 and stats.sent == seq, stats
    seqs = [e["properties"]["seq"] for e in mixtrack_collector.events("Long outage")]
    assert sorted(seqs) == list(range(seq))
    # one probe at a time on a doubling schedule: a handful of requests in 60 s, not hundreds
    requests = mixtrack_collector.stats()["requests"] - before
    assert requests < 60, requests


@pytest.mark.parametrize("run", range(3))
def test_an_outage_ending_inside_the_shutdown_budget_is_delivered_before_the_deadline(
    mixtrack_collector, run
):
    client = mixtrack.Client("budget-token", api_host=mixtrack_collector.url)
    mixtrack_collector.faults("status", status=503, seconds=1.5)
    for seq in range(4000):
        client.track(f"user-{seq % 100}", "Shutdown budget", {"seq": seq, "run": run})
    assert client.shutdown(timeout=3)
    stats = client.stats()
    assert stats.sent == 4000 and stats.dropped == 0, stats
    seqs = [e["properties"]["seq"] for e in mixtrack_collector.events("Shutdown budget", run=run)]
    assert sorted(seqs) == list(range(4000))


def test_what_is_left_at_the_shutdown_deadline_is_dropped_counted_and_logged(caplog):
    with _down_sink() as sink:
        client = mixtrack.Client("deadline-token", api_host=sink.url, backoff_initial=0.05)
        for seq in range(300):
            client.track("user-1", "Left behind", {"seq": seq})
        assert not client.shutdown(timeout=0.5)
    stats = client.stats()
    assert stats.dropped == 300 and stats.pending == 0
    assert stats.drops == {"shutdown deadline": 300}
    assert stats.requests >= 1  # it kept trying until the end
    assert "dropped 300 messages (shutdown deadline)" in caplog.text


@contextlib.contextmanager
def _down_sink() -> Iterator[Sink]:
    sink = Sink()
    sink.behaviour = lambda route, messages: (503, {}, b"down")
    try:
        yield sink
    finally:
        sink.close()


CHILD = textwrap.dedent("""
    import sys, mixtrack
    spool, url, run = sys.argv[1], sys.argv[2], sys.argv[3]
    client = mixtrack.Client("tok", api_host=url, spool_dir=spool, flush_interval=0.02,
                             batch_size=50)
    i = 0
    while True:
        client.track("killed", "Spool resend", {"run": int(run), "i": i})
        if i % 100 == 0:
            sys.stdout.write(f"{i}\\n")
            sys.stdout.flush()
        i += 1
""")


def test_after_sigkill_the_spool_resends_at_most_what_was_in_flight(tmp_path, mixtrack_collector):
    rng = random.Random(5)
    kills = 3
    for run in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), mixtrack_collector.url, str(run)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        for _ in range(30 + rng.randrange(30)):  # let it track and deliver for a while
            child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=10)
    with mixtrack.Client(
        "tok", api_host=mixtrack_collector.url, spool_dir=str(tmp_path), flush_interval=0.02
    ) as client:
        assert client.flush(30)
    stats = mixtrack_collector.stats()
    stored = len(mixtrack_collector.events("Spool resend"))
    assert stored > 3000
    config = mixtrack.Config(token="tok", batch_size=50)
    # the collector drops a re-sent $insert_id as a duplicate, and counts it
    assert stats["duplicates_dropped"] <= kills * config.max_in_flight * config.batch_size, stats
    assert list(tmp_path.iterdir()) == []
