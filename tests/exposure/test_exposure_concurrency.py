"""Exactly once under load: many threads, then many processes sharing a real Redis."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from typing import Any

import pytest

from mixtrack.exposure import Experiments, MemoryLedger, RedisLedger
from mixtrack.flags import StaticFlags

USERS = [f"user-{n}" for n in range(1000)]
CHECKOUT = {"checkout_redesign": {"control": 50, "treatment": 50}}


def render_in_threads(
    experiments: Experiments, threads: int, rounds: int, scoped: bool = False
) -> None:
    """Each thread renders the experiment for every user ``rounds`` times."""
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for round_ in range(rounds):
                for user in USERS:
                    if not scoped:
                        experiments.variant(user, "checkout_redesign").expose()
                        continue
                    with experiments.request_scope() as scope:
                        experiments.variant(user, "checkout_redesign").expose()
                        # Every other request of each thread fails: its exposures are dropped.
                        if (round_ + n) % 2 == 0:
                            scope.commit()
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert errors == []


@pytest.mark.slow
def test_32_threads_5_renders_1000_users_exactly_1000_exposures(tracker: Any) -> None:
    experiments = Experiments(tracker, StaticFlags(CHECKOUT), ledger=MemoryLedger())
    render_in_threads(experiments, threads=32, rounds=5)
    exposed = Counter(call["distinct_id"] for call in tracker.calls)
    assert sorted(exposed) == sorted(USERS)
    assert set(exposed.values()) == {1}
    stats = experiments.stats()
    assert stats.exposed == 1000
    assert stats.duplicates == 32 * 5 * 1000 - 1000


def test_with_failing_requests_every_user_is_still_exposed_exactly_once(tracker: Any) -> None:
    experiments = Experiments(tracker, StaticFlags(CHECKOUT), ledger=MemoryLedger())
    render_in_threads(experiments, threads=32, rounds=4, scoped=True)
    exposed = Counter(call["distinct_id"] for call in tracker.calls)
    assert sorted(exposed) == sorted(USERS)
    assert set(exposed.values()) == {1}
    assert experiments.stats().discarded > 0


class ListTracker:
    """A Tracker for a child process: keeps the ids it was asked to send."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._lock = threading.Lock()

    def track(self, distinct_id: Any, event: str, properties: Any = None, **_: Any) -> None:
        with self._lock:
            self.ids.append(distinct_id)


def _process(url: str, threads: int, rounds: int, ready: Any, results: Any) -> None:
    tracker = ListTracker()
    # a generous timeout: this test is about a healthy Redis under load, not an outage
    ledger = RedisLedger(url, socket_timeout=5.0)
    experiments = Experiments(tracker, StaticFlags(CHECKOUT), ledger=ledger)
    ready.wait()  # all processes race from the same moment
    render_in_threads(experiments, threads=threads, rounds=rounds)
    stats = experiments.stats()
    results.put((tracker.ids, stats.ledger_errors, stats.duplicates))


@pytest.mark.slow
def test_4_processes_sharing_redis_exactly_1000_exposures(redis_server: Any) -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    ready = context.Barrier(4)
    processes = [
        context.Process(target=_process, args=(redis_server.url, 8, 3, ready, results))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    exposed = Counter(user for ids, _, _ in outcomes for user in ids)
    assert sorted(exposed) == sorted(USERS)
    assert set(exposed.values()) == {1}
    assert [errors for _, errors, _ in outcomes] == [0, 0, 0, 0]
    # The shared ledger, not luck, kept the others out: every render but the first of each
    # user, in whichever process it ran, was refused by Redis (which process wins a user is
    # the scheduler's business).
    assert sum(duplicates for _, _, duplicates in outcomes) == 4 * 8 * 3 * len(USERS) - len(USERS)
