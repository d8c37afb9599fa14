"""A real Celery worker (prefork, recycled children) on a real redis-server, sending to the
session's real collector: every event once, as the user who queued the task."""

from __future__ import annotations

import collections
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mixtrack
from mixtrack.testing import Collector
from tests.jobs.conftest import PYTHON, Process, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture
def producer(
    redis_url: str, mixtrack_collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The queuing side: the same app module, imported in this process, instrumented."""
    monkeypatch.setenv("JOBS_REDIS_URL", redis_url)
    monkeypatch.setenv("MIXTRACK_TOKEN", "jobs-token")
    monkeypatch.setenv("MIXTRACK_API_HOST", mixtrack_collector.url)
    import importlib
    import sys

    sys.modules.pop("tests.jobs._celery_app", None)
    module = importlib.import_module("tests.jobs._celery_app")
    try:
        yield module
    finally:
        for instrumentation in module.instrumentations:
            instrumentation.uninstrument()
        module.client.shutdown(timeout=1)
        module.app.close()


def start_worker(start_process: Any, env: dict[str, str], *options: str) -> Process:
    name = f"jobs-{uuid.uuid4().hex[:8]}@127.0.0.1"
    command = [
        # the console script, not `python -m celery`: a SIGHUP restart re-executes sys.argv
        str(Path(PYTHON).with_name("celery")), "-A", "tests.jobs._celery_app", "worker",
        "--loglevel", "INFO", "-n", name,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        *options,
    ]  # fmt: skip
    return start_process(command, env)


def by_pid(events: list[dict[str, Any]]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = collections.defaultdict(list)
    for event in events:
        found[event["properties"]["pid"]].append(event["properties"]["n"])
    return found


def test_prefork_children_recycled_and_warm_shutdown_lose_nothing(
    producer: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    worker = start_worker(
        start_process,
        worker_env(mixtrack_collector, redis_url),
        "--pool", "prefork", "--concurrency", "2", "--max-tasks-per-child", "2",
    )  # fmt: skip
    tasks = 9
    with mixtrack.context(distinct_id="user-7", plan="pro"):
        results = [producer.record.delay(n) for n in range(tasks)]
    pids = [result.get(timeout=90) for result in results]
    ran = collections.Counter(pids)
    recycled = {pid for pid, count in ran.items() if count == 2}
    alive = {pid for pid, count in ran.items() if count == 1}
    assert all(count <= 2 for count in ran.values()), worker.output()
    assert len(recycled) >= 3 and alive, ran  # 9 tasks, 2 per child: some still running

    # A recycled child delivered its events on its way out (the timer is an hour away).
    expected_early = sum(ran[pid] for pid in recycled)
    early = mixtrack_collector.wait_for(expected_early, "Task ran", timeout=30)
    assert set(by_pid(early)) == recycled, worker.output()
    assert not mixtrack_collector.events("Task ran", pid=next(iter(alive)))

    worker.signal(signal.SIGTERM)  # warm shutdown
    assert worker.wait(timeout=60) == 0, worker.output()

    events = mixtrack_collector.wait_for(tasks, "Task ran", timeout=10)
    assert sorted(e["properties"]["n"] for e in events) == list(range(tasks))
    assert {e["properties"]["distinct_id"] for e in events} == {"user-7"}
    assert {e["properties"]["plan"] for e in events} == {"pro"}
    for n, pid in enumerate(pids):  # each event came from the child that ran its task
        assert by_pid(events)[pid].count(n) == 1
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0
    assert len({e["properties"]["$insert_id"] for e in events}) == tasks


def test_without_instrument_recycled_children_lose_their_events(
    producer: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    # The control: the same worker without the integration. A child ends with os._exit.
    worker = start_worker(
        start_process,
        worker_env(mixtrack_collector, redis_url, JOBS_INSTRUMENT="0"),
        "--pool", "prefork", "--concurrency", "2", "--max-tasks-per-child", "1",
    )  # fmt: skip
    results = [producer.record_as.delay("user-control", n) for n in range(4)]
    assert len({result.get(timeout=90) for result in results}) == 4  # four children, all gone
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0, worker.output()
    assert mixtrack_collector.events("Task ran") == []


def test_async_client_in_tasks_and_at_child_exit_and_context_passed_on(
    producer: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    worker = start_worker(
        start_process,
        worker_env(mixtrack_collector, redis_url),
        "--pool", "prefork", "--concurrency", "2",
    )  # fmt: skip
    with mixtrack.context(distinct_id="user-8"):
        flushed = [producer.record_async.delay(n, True) for n in range(3)]
        left = [producer.record_async.delay(n, False) for n in range(3, 6)]
        relays = [producer.relay.delay(n) for n in (100, 101)]
    for result in flushed + left:
        result.get(timeout=90)
    for relay in relays:  # the tasks the relays queued ran too
        producer.app.AsyncResult(relay.get(timeout=90)).get(timeout=90)

    # flush_after inside the task delivered before the task returned
    early = mixtrack_collector.wait_for(3, "Async task ran", timeout=30)
    assert sorted(e["properties"]["n"] for e in early)[:3] == [0, 1, 2], worker.output()

    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0, worker.output()
    events = mixtrack_collector.wait_for(6, "Async task ran", timeout=10)
    assert sorted(e["properties"]["n"] for e in events) == list(range(6)), worker.output()
    assert {e["properties"]["distinct_id"] for e in events} == {"user-8"}
    relayed = mixtrack_collector.wait_for(2, "Task ran", timeout=10)
    assert sorted(e["properties"]["n"] for e in relayed) == [100, 101]
    assert {e["properties"]["distinct_id"] for e in relayed} == {"user-8"}
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0


def test_sighup_restart_of_a_solo_worker_delivers_before_it_re_executes(
    producer: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    # In the solo pool tasks run in the worker's own process; a SIGHUP restart re-executes it
    # with os.execv, where atexit never runs: the worker_shutdown signal must deliver.
    worker = start_worker(
        start_process, worker_env(mixtrack_collector, redis_url), "--pool", "solo"
    )
    with mixtrack.context(distinct_id="user-9"):
        results = [producer.record.delay(n) for n in range(4)]
    pids = {result.get(timeout=90) for result in results}
    assert pids == {worker.popen.pid}
    assert not mixtrack_collector.events("Task ran")  # held: the timer is an hour away

    worker.signal(signal.SIGHUP)
    events = mixtrack_collector.wait_for(4, "Task ran", timeout=60)
    assert sorted(e["properties"]["n"] for e in events) == [0, 1, 2, 3], worker.output()
    assert {e["properties"]["distinct_id"] for e in events} == {"user-9"}

    # the re-executed worker runs tasks again, with a fresh client
    with mixtrack.context(distinct_id="user-10"):
        again = producer.record.delay(4)
    assert again.get(timeout=30) == worker.popen.pid, worker.output()
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0, worker.output()
    assert [
        e["properties"]["n"]
        for e in mixtrack_collector.wait_for(1, "Task ran", distinct_id="user-10", timeout=10)
    ] == [4]
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0
