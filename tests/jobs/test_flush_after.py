"""client.flush_after(timeout=...): what a handler tracked is delivered before control goes
back, so a process that is frozen or ends with os._exit right after loses nothing."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import textwrap
from collections.abc import Iterator

import pytest

import mixtrack
from mixtrack.testing import Collector
from tests._redis import free_port
from tests.jobs.conftest import PYTHON, REPO

TOKEN = "jobs-token"


@pytest.fixture
def client(mixtrack_collector: Collector) -> Iterator[mixtrack.Client]:
    # an hour between timed flushes: whatever arrives at once was flushed by flush_after
    with mixtrack.Client(TOKEN, api_host=mixtrack_collector.url, flush_interval=3600) as client:
        yield client


def test_decorator_delivers_before_returning_and_keeps_the_return_value(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    @client.flush_after(timeout=5)
    def handler(event: dict[str, str]) -> str:
        for n in range(20):
            client.track(event["user"], "Invoked", {"n": n})
        return "ok"

    assert handler.__name__ == "handler"
    assert handler({"user": "user-1"}) == "ok"
    assert client.stats().pending == 0
    assert len(mixtrack_collector.events("Invoked", distinct_id="user-1")) == 20


def test_decorator_delivers_when_the_handler_raises(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    @client.flush_after(timeout=5)
    def handler() -> None:
        client.track("user-2", "Invoked")
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        handler()
    assert len(mixtrack_collector.events("Invoked", distinct_id="user-2")) == 1


def test_context_manager(client: mixtrack.Client, mixtrack_collector: Collector) -> None:
    with client.flush_after(timeout=5), mixtrack.context(distinct_id="user-3"):
        client.track(None, "Script ran")
    assert [e["properties"]["distinct_id"] for e in mixtrack_collector.events("Script ran")] == [
        "user-3"
    ]


def test_sync_client_on_an_async_handler(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    @client.flush_after(timeout=5)
    async def handler() -> int:
        client.track("user-4", "Invoked")
        await asyncio.sleep(0)
        return 4

    assert asyncio.run(handler()) == 4
    assert len(mixtrack_collector.events("Invoked", distinct_id="user-4")) == 1


def test_async_client_decorator_and_async_with(mixtrack_collector: Collector) -> None:
    client = mixtrack.AsyncClient(TOKEN, api_host=mixtrack_collector.url, flush_interval=3600)

    @client.flush_after(timeout=5)
    async def handler(n: int) -> int:
        client.track("user-5", "Invoked", {"n": n})
        return n

    async def main() -> None:
        assert await handler(1) == 1
        assert len(mixtrack_collector.events("Invoked", distinct_id="user-5")) == 1
        async with client.flush_after(timeout=5):
            client.track("user-5", "Invoked", {"n": 2})
        assert len(mixtrack_collector.events("Invoked", distinct_id="user-5")) == 2
        with pytest.raises(ValueError, match="boom"):
            async with client.flush_after(timeout=5):
                client.track("user-5", "Invoked", {"n": 3})
                raise ValueError("boom")
        assert len(mixtrack_collector.events("Invoked", distinct_id="user-5")) == 3
        await client.aclose()

    asyncio.run(main())


def test_bad_timeouts_and_misuse_are_refused_clearly(client: mixtrack.Client) -> None:
    for bad in (0, -1, "5", None, True, float("nan")):
        with pytest.raises(mixtrack.ConfigError, match="positive number of seconds, got"):
            client.flush_after(timeout=bad)  # type: ignore[arg-type]
    async_client = mixtrack.AsyncClient(TOKEN, api_host="http://127.0.0.1:1")
    with pytest.raises(mixtrack.ConfigError, match="decorates `async def` functions"):
        async_client.flush_after(timeout=1)(lambda: None)
    with (
        pytest.raises(mixtrack.ConfigError, match="needs `async with`"),
        async_client.flush_after(timeout=1),  # type: ignore[attr-defined]
    ):
        pass


def test_undelivered_after_the_timeout_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # nothing listens on this port: every attempt fails, and the timeout passes first
    client = mixtrack.Client(TOKEN, api_host=f"http://127.0.0.1:{free_port()}")
    try:
        with caplog.at_level(logging.WARNING, logger="mixtrack"), client.flush_after(timeout=0.3):
            client.track("user-6", "Invoked")
        warnings = [r.getMessage() for r in caplog.records if "flush_after" in r.getMessage()]
        assert len(warnings) == 1
        assert "pending=1" in warnings[0]
    finally:
        client.shutdown(timeout=0.1)
    assert client.stats().dropped == 1  # and the drop is counted


HANDLER = """
import asyncio, os, sys
import mixtrack

api_host, mode = sys.argv[1], sys.argv[2]
if mode == "async":
    client = mixtrack.AsyncClient("jobs-token", api_host=api_host, flush_interval=3600)

    @client.flush_after(timeout=10)
    async def handler():
        for n in range(50):
            client.track("user-lambda", "Invoked", {"n": n, "mode": mode})

    asyncio.run(handler())
else:
    client = mixtrack.Client("jobs-token", api_host=api_host, flush_interval=3600)

    def handler():
        for n in range(50):
            client.track("user-lambda", "Invoked", {"n": n, "mode": mode})
        if mode == "raise":
            raise RuntimeError("handler failed")

    if mode != "bare":
        handler = client.flush_after(timeout=10)(handler)
    try:
        handler()
    except RuntimeError:
        pass
# what a frozen or killed function looks like to the client: no atexit, no more threads
os._exit(0)
"""


@pytest.mark.parametrize("mode", ["sync", "raise", "async"])
def test_a_process_that_os_exits_after_the_handler_loses_nothing(
    mode: str, mixtrack_collector: Collector
) -> None:
    done = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(HANDLER), mixtrack_collector.url, mode],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    events = mixtrack_collector.events("Invoked", distinct_id="user-lambda", mode=mode)
    assert sorted(e["properties"]["n"] for e in events) == list(range(50))
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0


def test_without_flush_after_the_same_process_loses_its_events(
    mixtrack_collector: Collector,
) -> None:
    done = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(HANDLER), mixtrack_collector.url, "bare"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert mixtrack_collector.events("Invoked") == []
