"""``before_send=``: change or leave out each message before it is queued; what it breaks or
raises on is dropped and counted, never raised into ``track()``. Both clients, against the
scripted local server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import mixtrack
from tests._sink import Sink
from tests.reliability._support import balanced

KINDS = ["thread", "asyncio"]


def send(kind: str, url: str, before_send: Any, calls: Any) -> tuple[mixtrack.FlushResult, Any]:
    """Makes a client with ``before_send``, runs ``calls(client)``, flushes; returns the
    flush result and the stats."""
    options = {"api_host": url, "flush_interval": 0.05, "before_send": before_send}
    if kind == "thread":
        client = mixtrack.Client("tok", **options)
        calls(client)
        result = client.flush(timeout=10)
        client.shutdown(timeout=2)
        return result, client.stats()

    async def main() -> tuple[mixtrack.FlushResult, Any]:
        client = mixtrack.AsyncClient("tok", **options)
        calls(client)
        result = await client.flush(timeout=10)
        await client.aclose(timeout=2)
        return result, client.stats()

    return asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_before_send_scrubs_and_samples_out(sink: Sink, kind: str) -> None:
    def scrub(message: dict[str, Any]) -> dict[str, Any] | None:
        properties = message.get("properties", message)
        if properties.get("distinct_id", "").startswith("test-"):
            return None  # sampled out: a test user
        properties.pop("$email", None)
        message.get("$set", {}).pop("$email", None)
        return message

    def calls(client: Any) -> None:
        client.track("user-1", "Signed up", {"$email": "a@b.c", "plan": "pro"})
        client.track("test-2", "Signed up", {"$email": "t@b.c"})
        client.people_set("user-1", {"$email": "a@b.c", "$name": "Ann"})

    result, stats = send(kind, sink.url, scrub, calls)
    assert result, result  # leaving a message out is the app's choice, not a failure
    events = sink.events()
    assert [e["properties"]["distinct_id"] for e in events] == ["user-1"]
    assert "$email" not in events[0]["properties"] and events[0]["properties"]["plan"] == "pro"
    profiles = [m for route, m in sink.messages if route == "engage"]
    assert profiles and profiles[0]["$set"] == {"$name": "Ann"}
    assert stats.invalid == 1 and stats.sent == 2 and balanced(stats), stats


@pytest.mark.parametrize("kind", KINDS)
def test_what_before_send_breaks_or_raises_on_is_dropped_and_counted(sink: Sink, kind: str) -> None:
    def meddle(message: dict[str, Any]) -> dict[str, Any]:
        name = message["event"]
        if name == "Raises":
            raise RuntimeError("scrubber bug")
        if name == "Loses token":
            del message["properties"]["token"]
        if name == "Renamed away":
            message["event"] = ""
        if name == "Not JSON":
            message["properties"]["when"] = object()
        return message

    def calls(client: Any) -> None:
        for name in ["Kept", "Raises", "Loses token", "Renamed away", "Not JSON"]:
            client.track("user-1", name)  # never raises

    result, stats = send(kind, sink.url, meddle, calls)
    assert [e["event"] for e in sink.events()] == ["Kept"]
    assert stats.drops == {"before_send error": 1, "before_send broke it": 3}, stats.drops
    assert stats.enqueued == 5 and stats.sent == 1 and balanced(stats), stats
    assert not result and result.dropped == 4
