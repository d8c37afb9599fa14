"""AsyncClient against a real HTTP server on 127.0.0.1: outages, hangs, several loops."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import mixtrack

# ``collector`` is the scripted local server of tests/_sink.py (see conftest.py).


def balanced(stats: mixtrack.Stats) -> bool:
    return stats.enqueued == stats.sent + stats.rejected + stats.dropped + stats.pending


def test_outage_then_recovery_delivers_every_event_exactly_once(collector: Any) -> None:
    failures = {"count": 0}
    lock = threading.Lock()

    def outage(route: str, messages: list[dict[str, Any]]) -> Any:
        # the first dozen requests fail: 503s with Retry-After and dropped connections
        with lock:
            failures["count"] += 1
            n = failures["count"]
        if n > 12:
            return None
        if n % 3 == 0:
            return "drop"
        return (503, {"Retry-After": "0.05"}, '{"error": "down for maintenance"}')

    collector.behaviour = outage

    async def main() -> tuple[bool, mixtrack.Stats]:
        client = mixtrack.AsyncClient(
            "tok", api_host=collector.url, batch_size=50, flush_interval=0.05, max_backoff=0.2
        )
        for n in range(1000):
            client.track(f"user-{n % 37}", "Outage test", {"n": n})
            if n % 100 == 0:
                await asyncio.sleep(0)  # an app doing other work between events
        delivered = await client.aclose(timeout=30)
        return delivered, client.stats()

    delivered, stats = asyncio.run(main())
    assert delivered
    events = collector.events()
    insert_ids = [e["properties"]["$insert_id"] for e in events]
    assert len(set(insert_ids)) == 1000
    assert len(insert_ids) == 1000  # exactly once: nothing lost, nothing stored twice
    assert stats.sent == 1000 and stats.dropped == 0 and stats.retries >= 12 and balanced(stats)


def test_hung_collector_aclose_keeps_its_deadline_and_books_every_event(collector: Any) -> None:
    collector.behaviour = lambda route, messages: "hang"

    async def main() -> tuple[bool, float, mixtrack.Stats]:
        client = mixtrack.AsyncClient(
            "tok", api_host=collector.url, batch_size=20, flush_interval=0.05
        )
        for n in range(100):
            client.track("user-42", "Hung test", {"n": n})
        await asyncio.sleep(0.1)  # requests are in flight, and hang
        started = time.monotonic()
        delivered = await client.aclose(timeout=1)
        return delivered, time.monotonic() - started, client.stats()

    delivered, elapsed, stats = asyncio.run(main())
    assert not delivered
    assert elapsed <= 1.2
    assert stats.enqueued == 100 and stats.pending == 0 and stats.dropped == 100
    assert balanced(stats)


def test_own_http_client_is_made_again_for_each_asyncio_run(collector: Any) -> None:
    client = mixtrack.AsyncClient("tok", api_host=collector.url, flush_interval=0.05)

    async def run(n: int) -> bool:
        client.track("user-42", "Run", {"n": n})
        return await client.flush(timeout=5)

    for n in range(3):
        assert asyncio.run(run(n))
    assert asyncio.run(client.aclose(timeout=5))
    assert sorted(e["properties"]["n"] for e in collector.events()) == [0, 1, 2]
    assert client.stats().sent == 3
