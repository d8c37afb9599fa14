"""The Celery app the Celery tests run in real workers: ``celery -A tests.jobs._celery_app``.

Both sides import it, as an application's queuing code and its workers import one module.
The clients are configured from ``MIXTRACK_*`` (see conftest.worker_env)."""

from __future__ import annotations

import asyncio
import os

import mixtrack_celery
from celery import Celery

import mixtrack

app = Celery("jobs", broker=os.environ["JOBS_REDIS_URL"], backend=os.environ["JOBS_REDIS_URL"])
app.conf.update(
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,  # one task at a time per child: recycling is then exact
    task_acks_late=False,
    result_expires=600,
)

client = mixtrack.Client.from_env()
async_client = mixtrack.AsyncClient.from_env()
# JOBS_INSTRUMENT=0 runs the same app without the integration: the control experiment
instrumentations = (
    [mixtrack_celery.instrument(app, client), mixtrack_celery.instrument(app, async_client)]
    if os.environ.get("JOBS_INSTRUMENT", "1") == "1"
    else []
)


@app.task(name="jobs.record")
def record(n: int) -> int:
    client.track(None, "Task ran", {"n": n, "pid": os.getpid()})
    return os.getpid()


@app.task(name="jobs.record_as")
def record_as(distinct_id: str, n: int) -> int:
    client.track(distinct_id, "Task ran", {"n": n, "pid": os.getpid()})
    return os.getpid()


@app.task(name="jobs.record_async")
def record_async(n: int, flush: bool) -> int:
    async def work() -> None:
        async_client.track(None, "Async task ran", {"n": n, "pid": os.getpid()})

    # Celery runs tasks synchronously: the async part runs on a loop of its own, and
    # flush_after delivers before that loop ends.
    asyncio.run(async_client.flush_after(timeout=10)(work)() if flush else work())
    return os.getpid()


@app.task(name="jobs.relay")
def relay(n: int) -> str:
    # queued from inside a task: the context it runs in is passed on
    return str(record.delay(n).id)
