"""A real RQ worker (a forked work-horse per job, ended with os._exit) on a real
redis-server, sending to the session's real collector."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mixtrack_rq
import pytest
import redis
import rq

import mixtrack
from mixtrack.testing import Collector
from tests._redis import free_port
from tests.jobs import _rq_jobs
from tests.jobs.conftest import PYTHON, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture
def connection(redis_url: str) -> Any:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    try:
        yield conn
    finally:
        conn.close()


def run_burst_worker(
    start_process: Any, collector: Collector, redis_url: str, worker_class: str, **env: str
) -> str:
    """``rq worker --burst``: works the queue empty, then stops by itself. Its output."""
    command = [
        str(Path(PYTHON).with_name("rq")), "worker", "--burst",
        "--url", redis_url, "--worker-class", worker_class, "jobs",
    ]  # fmt: skip
    worker = start_process(command, worker_env(collector, redis_url, **env))
    assert worker.wait(timeout=120) == 0, worker.output()
    return str(worker.output())


def test_each_work_horse_delivers_its_jobs_events_as_the_queuing_user(
    connection: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    queue = mixtrack_rq.Queue("jobs", connection=connection)
    with mixtrack.context(distinct_id="user-21", plan="team"):
        jobs = [queue.enqueue(_rq_jobs.record, n) for n in range(6)]
        failing = queue.enqueue(_rq_jobs.record_then_fail, 6)
        async_jobs = [queue.enqueue(_rq_jobs.record_async, n) for n in range(2)]
    assert mixtrack_rq.carried_context(jobs[0]) == ("user-21", {"plan": "team"})

    run_burst_worker(start_process, mixtrack_collector, redis_url, "mixtrack_rq.Worker")

    pids = [job.latest_result().return_value for job in jobs]
    assert len(set(pids)) == 6  # one work-horse per job, each gone with os._exit
    assert failing.get_status() == rq.job.JobStatus.FAILED
    # The worker stopped and its horses are gone: what arrived is all that ever will.
    events = mixtrack_collector.events("Job ran")
    assert sorted(e["properties"]["n"] for e in events) == list(range(7))
    assert {e["properties"]["distinct_id"] for e in events} == {"user-21"}
    assert {e["properties"]["plan"] for e in events} == {"team"}
    assert {e["properties"]["pid"] for e in events if e["properties"]["n"] < 6} == set(pids)
    async_events = mixtrack_collector.events("Async job ran")
    assert sorted(e["properties"]["n"] for e in async_events) == [0, 1]
    assert {e["properties"]["distinct_id"] for e in async_events} == {"user-21"}
    assert all(job.get_status() == rq.job.JobStatus.FINISHED for job in async_jobs)
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0


def test_the_plain_rq_worker_loses_what_the_horse_held(
    connection: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    # The control: the same jobs under rq's own Worker; the horse's os._exit skips atexit.
    queue = mixtrack_rq.Queue("jobs", connection=connection)
    jobs = [queue.enqueue(_rq_jobs.record_as, "user-22", n) for n in range(3)]
    run_burst_worker(start_process, mixtrack_collector, redis_url, "rq.Worker")
    assert all(job.get_status() == rq.job.JobStatus.FINISHED for job in jobs)
    assert mixtrack_collector.events("Job ran") == []


def test_simple_worker_flushes_after_each_job_and_keeps_its_client(
    connection: Any, mixtrack_collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SimpleWorker runs jobs in its own process (here: this one); its client stays open.
    monkeypatch.setattr(
        _rq_jobs,
        "_client",
        mixtrack.Client("jobs-token", api_host=mixtrack_collector.url, flush_interval=3600),
    )
    queue = mixtrack_rq.Queue("jobs", connection=connection)
    with mixtrack.context(distinct_id="user-23"):
        queue.enqueue(_rq_jobs.record, 0)
        queue.enqueue(_rq_jobs.record, 1)
    enqueued_outside = rq.Queue("jobs", connection=connection).enqueue(_rq_jobs.record, 2)
    assert mixtrack_rq.carried_context(enqueued_outside) is None
    with mixtrack.context(distinct_id="user-24"):  # the worker's own context, for job 2
        mixtrack_rq.SimpleWorker([queue], connection=connection).work(burst=True)

    events = mixtrack_collector.events("Job ran")  # no flush here: the worker did it
    assert {e["properties"]["n"]: e["properties"]["distinct_id"] for e in events} == {
        0: "user-23",
        1: "user-23",
        2: "user-24",
    }
    client = _rq_jobs.client()
    client.track("user-23", "After the jobs")
    assert client.flush(timeout=5)
    assert mixtrack_collector.events("After the jobs")
    client.shutdown(timeout=5)


def test_a_horse_that_cannot_deliver_exits_within_the_budget_and_says_so(
    connection: Any, redis_url: str, mixtrack_collector: Collector, start_process: Any
) -> None:
    # Nothing listens where the client sends: the horse gives up after shutdown_timeout,
    # counts the event as dropped and logs it; the job itself is not failed by it.
    queue = mixtrack_rq.Queue("jobs", connection=connection)
    job = queue.enqueue(_rq_jobs.record_as, "user-25", 0)
    output = run_burst_worker(
        start_process,
        mixtrack_collector,
        redis_url,
        "mixtrack_rq.Worker",
        MIXTRACK_API_HOST=f"http://127.0.0.1:{free_port()}",
        MIXTRACK_SHUTDOWN_TIMEOUT="0.5",
    )
    assert job.get_status() == rq.job.JobStatus.FINISHED
    assert re.search(r"dropped 1 messages \(shutdown deadline\).*ConnectError", output), output
