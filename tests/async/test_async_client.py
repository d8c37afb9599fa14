"""AsyncClient through httpx.MockTransport: delivery, retries, 413 splits, partial 400s."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import mixtrack
from mixtrack._delivery.loop import OFFLOAD_BYTES
from mixtrack.transport import AsyncHttpxTransport

Handler = Callable[[httpx.Request], httpx.Response]


def messages_of(request: httpx.Request) -> list[dict[str, Any]]:
    body = request.content
    if request.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    doc = json.loads(body)
    return doc if isinstance(doc, list) else [doc]


def imported(count: int) -> httpx.Response:
    return httpx.Response(200, json={"code": 200, "num_records_imported": count, "status": "OK"})


class Recorder:
    """Answers like Mixpanel's /import unless a test scripts another answer."""

    def __init__(self, script: Callable[[int, list[dict[str, Any]]], httpx.Response | None]):
        self.script = script
        self.requests: list[list[dict[str, Any]]] = []
        self.accepted: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        batch = messages_of(request)
        self.requests.append(batch)
        answer = self.script(len(self.requests), batch)
        if answer is not None:
            return answer
        self.accepted.extend(batch)
        return imported(len(batch))


def client_on(handler: Handler, **options: Any) -> mixtrack.AsyncClient:
    transport = AsyncHttpxTransport(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    options.setdefault("flush_interval", 0.05)
    options.setdefault("api_host", "http://collector.test")
    return mixtrack.AsyncClient("tok", transport=transport, **options)


def balanced(stats: mixtrack.Stats) -> bool:
    return stats.enqueued == stats.sent + stats.rejected + stats.dropped + stats.pending


def test_track_is_delivered_in_one_gzipped_import_batch() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return imported(len(messages_of(request)))

    async def main() -> mixtrack.Stats:
        async with client_on(handler) as client:
            for n in range(10):
                client.track("user-42", "Signed up", {"n": n})
            assert await client.flush(timeout=5)
            return client.stats()

    stats = asyncio.run(main())
    assert stats.sent == 10 and stats.pending == 0 and balanced(stats)
    request = seen[0]
    assert request.url.path == "/import"
    assert request.headers["content-encoding"] == "gzip"
    assert [m["properties"]["n"] for m in messages_of(request)] == list(range(10))


def test_retry_after_is_honoured_then_the_batch_is_sent(caplog: pytest.LogCaptureFixture) -> None:
    def script(number: int, batch: list[dict[str, Any]]) -> httpx.Response | None:
        if number == 1:
            return httpx.Response(429, headers={"Retry-After": "0.3"}, text="slow down")
        return None

    recorder = Recorder(script)

    async def main() -> mixtrack.Stats:
        async with client_on(recorder) as client:
            client.track("user-42", "Signed up")
            assert await client.flush(timeout=5)
            return client.stats()

    with caplog.at_level(logging.INFO, logger="mixtrack"):
        stats = asyncio.run(main())
    assert stats.sent == 1 and stats.retries == 1 and stats.requests == 2
    waits = [r.args[-1] for r in caplog.records if "retrying in" in r.getMessage()]
    assert waits and waits[0] >= 0.3
    assert len(recorder.accepted) == 1


def test_413_splits_the_batch_until_it_fits() -> None:
    def script(number: int, batch: list[dict[str, Any]]) -> httpx.Response | None:
        if len(batch) > 3:
            return httpx.Response(413, text="request exceeds max limit of 2097152 bytes")
        return None

    recorder = Recorder(script)

    async def main() -> mixtrack.Stats:
        async with client_on(recorder, batch_size=20, flush_interval=10) as client:
            for n in range(20):
                client.track("user-42", "Viewed", {"n": n})
            assert await client.flush(timeout=5)
            return client.stats()

    stats = asyncio.run(main())
    assert stats.sent == 20 and stats.dropped == 0 and balanced(stats)
    assert sorted(m["properties"]["n"] for m in recorder.accepted) == list(range(20))
    assert [len(batch) for batch in recorder.requests[:3]] == [20, 10, 5]


def test_partial_400_keeps_the_good_records() -> None:
    def script(number: int, batch: list[dict[str, Any]]) -> httpx.Response | None:
        failed = [
            {
                "index": 1,
                "insert_id": batch[1]["properties"]["$insert_id"],
                "field": "time",
                "message": "'properties.time' is invalid",
            }
        ]
        return httpx.Response(
            400,
            json={
                "code": 400,
                "error": "some data points in the request failed validation",
                "failed_records": failed,
                "num_records_imported": len(batch) - 1,
                "status": "Bad Request",
            },
        )

    async def main() -> mixtrack.Stats:
        async with client_on(Recorder(script)) as client:
            for n in range(3):
                client.track("user-42", "Viewed", {"n": n})
            result = await client.flush(timeout=5)
            assert not result and (result.sent, result.rejected, result.pending) == (2, 1, 0)
            return client.stats()

    stats = asyncio.run(main())
    assert (stats.sent, stats.rejected, stats.dropped) == (2, 1, 0)
    assert "failed validation" in (stats.last_error or "") or "400" in (stats.last_error or "")


def test_exhausted_retries_are_counted_and_reported() -> None:
    dropped: list[tuple[str, str]] = []
    recorder = Recorder(lambda number, batch: httpx.Response(503, text="down"))

    async def main() -> mixtrack.AsyncClient:
        client = client_on(
            recorder,
            max_attempts=2,
            max_backoff=0.01,
            on_drop=lambda route, message, reason: dropped.append((route, reason)),
        )
        client.track("user-42", "Signed up")
        client.track("user-42", "Logged in")
        result = await client.flush(timeout=5)
        assert not result and (result.sent, result.dropped, result.pending) == (0, 2, 0)
        closed = await client.aclose()
        assert closed and closed.dropped == 0  # the drops were the flush window's
        return client

    stats = asyncio.run(main()).stats()
    assert (stats.dropped, stats.sent, stats.requests) == (2, 0, 2) and balanced(stats)
    assert len(dropped) == 2 and "after 2 attempts" in dropped[0][1]


def test_created_before_the_loop_and_used_across_several_asyncio_runs() -> None:
    recorder = Recorder(lambda number, batch: None)
    client = client_on(recorder)
    client.track("user-1", "Before any loop")

    async def run(name: str) -> mixtrack.FlushResult:
        client.track("user-1", name)
        return await client.flush(timeout=5)

    assert asyncio.run(run("First loop"))
    assert asyncio.run(run("Second loop"))
    assert asyncio.run(client.aclose(timeout=5))
    names = [m["event"] for m in recorder.accepted]
    assert names == ["Before any loop", "First loop", "Second loop"]


def test_a_loop_that_ends_mid_request_leaves_the_batch_to_the_next_loop() -> None:
    first_request = threading.Event()
    accepted: list[dict[str, Any]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if not first_request.is_set():
            first_request.set()
            await asyncio.sleep(3600)  # never answers: the loop ends first
        batch = messages_of(request)
        accepted.extend(batch)
        return imported(len(batch))

    transport = AsyncHttpxTransport(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    client = mixtrack.AsyncClient("tok", transport=transport, flush_interval=0.01)

    async def first() -> None:
        client.track("user-1", "Interrupted")
        assert not await client.flush(timeout=0.3)  # the request hangs

    asyncio.run(first())
    assert first_request.is_set() and client.stats().pending == 1

    async def second() -> bool:
        return await client.aclose(timeout=5)

    assert asyncio.run(second())
    assert [m["event"] for m in accepted] == ["Interrupted"]
    stats = client.stats()
    assert stats.sent == 1 and stats.pending == 0 and balanced(stats)


def test_track_from_other_threads_while_the_loop_runs() -> None:
    recorder = Recorder(lambda number, batch: None)

    async def main() -> mixtrack.Stats:
        client = client_on(recorder, batch_size=50, flush_interval=30)
        client.track("main", "Started")  # binds the delivery task to this loop

        def worker(n: int) -> None:
            for i in range(100):
                client.track(f"thread-{n}", "Worked", {"i": i})

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        await asyncio.to_thread(lambda: [(t.start(), t.join()) for t in threads])
        assert await client.aclose(timeout=5)
        return client.stats()

    stats = asyncio.run(main())
    assert stats.sent == 401 and balanced(stats)
    assert len({m["properties"]["$insert_id"] for m in recorder.accepted}) == 401


def test_large_batches_are_encoded_off_the_loop_and_arrive_intact() -> None:
    recorder = Recorder(lambda number, batch: None)
    blob = "x" * 200

    async def main() -> mixtrack.Stats:
        async with client_on(recorder, batch_size=1000, flush_interval=30) as client:
            for n in range(1000):
                client.track("user-42", "Bulk", {"n": n, "blob": blob})
            assert await client.flush(timeout=10)
            return client.stats()

    stats = asyncio.run(main())
    assert 1000 * len(blob) > OFFLOAD_BYTES
    assert stats.sent == 1000
    assert sorted(m["properties"]["n"] for m in recorder.accepted) == list(range(1000))


def test_every_call_of_client_exists_on_async_client() -> None:
    public = {n for n in dir(mixtrack.Client) if not n.startswith("_")}
    expected = public - {"flush", "shutdown", "close"}
    assert expected <= set(dir(mixtrack.AsyncClient))
    assert {"flush", "aclose", "stats"} <= set(dir(mixtrack.AsyncClient))


def test_profiles_and_groups_go_to_their_endpoints() -> None:
    routes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        routes.append(request.url.path)
        return httpx.Response(200, json={"status": 1, "error": None})

    async def main() -> None:
        async with client_on(handler) as client:
            client.people_set("user-42", {"$email": "ada@example.com"})
            client.group_set("company", "acme", {"plan": "enterprise"})
            client.identify("user-42", anon_id="anon-7f3")
            assert await client.flush(timeout=5)

    asyncio.run(main())
    assert sorted(routes) == ["/engage", "/groups", "/track"]


def test_blocking_overflow_is_refused() -> None:
    with pytest.raises(mixtrack.ConfigError, match="block"):
        mixtrack.AsyncClient("tok", overflow="block")


def test_a_flush_that_returned_or_was_cancelled_stops_cutting_retry_waits() -> None:
    recorder = Recorder(lambda number, batch: httpx.Response(503, text="down"))

    async def main() -> None:
        client = client_on(recorder, backoff_initial=5.0, max_backoff=5.0)
        client.track("user-42", "Signed up")
        assert not await client.flush(timeout=0.3)
        assert client._deadline.until is None
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.flush(timeout=30), 0.2)
        # otherwise every batch would be sent past the circuit 7.5 s from now
        assert client._deadline.until is None
        await client.aclose(0.1)

    asyncio.run(main())
