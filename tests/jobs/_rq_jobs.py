"""Jobs the RQ tests run in real workers. The client is made on first use, as it is in a
work-horse that imports this module after the fork (configured from ``MIXTRACK_*``)."""

from __future__ import annotations

import asyncio
import os

import mixtrack

_client: mixtrack.Client | None = None
_async_client: mixtrack.AsyncClient | None = None


def client() -> mixtrack.Client:
    global _client
    if _client is None:
        _client = mixtrack.Client.from_env()
    return _client


def record(n: int) -> int:
    client().track(None, "Job ran", {"n": n, "pid": os.getpid()})
    return os.getpid()


def record_then_fail(n: int) -> None:
    client().track(None, "Job ran", {"n": n, "pid": os.getpid()})
    raise RuntimeError(f"job {n} failed on purpose")


def record_as(distinct_id: str, n: int) -> int:
    client().track(distinct_id, "Job ran", {"n": n, "pid": os.getpid()})
    return os.getpid()


def record_async(n: int) -> int:
    # an async job that leaves its event queued: the worker closes the AsyncClient after it
    global _async_client
    if _async_client is None:
        _async_client = mixtrack.AsyncClient.from_env()
    client = _async_client

    async def work() -> None:
        client.track(None, "Async job ran", {"n": n, "pid": os.getpid()})

    asyncio.run(work())
    return os.getpid()
