"""The kill switch: calls validate as usual, nothing is queued or sent, no thread starts."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import mixtrack
from mixtrack.testing import Collector


def mixtrack_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("mixtrack-worker")]


def test_a_disabled_client_sends_nothing_and_starts_no_thread(
    mixtrack_collector: Collector,
) -> None:
    before = mixtrack_threads()
    client = mixtrack.Client(
        "tok", api_host=mixtrack_collector.url, flush_interval=0.01, disabled=True
    )
    client.register({"app": "shop"})
    client.track("user-42", "Signed up", {"plan": "pro"})
    client.identify("user-42", anon_id="anon-7f3")
    client.people_set("user-42", {"$email": "ada@example.com"})
    client.group_set("company", "acme", {"plan": "enterprise"})
    result = client.flush(timeout=2)
    assert result and result == mixtrack.FlushResult()
    assert mixtrack_threads() == before
    stats = client.stats()
    assert stats.disabled is True
    assert (stats.enqueued, stats.sent, stats.pending, stats.requests) == (0, 0, 0, 0)
    assert client.shutdown(timeout=2)
    assert mixtrack_collector.stats()["requests"] == 0
    assert mixtrack_collector.events() == []


def test_calls_still_validate_when_disabled() -> None:
    strict = mixtrack.Client("tok", disabled=True, invalid="raise")
    with pytest.raises(mixtrack.ValidationError, match="event name must be a non-empty str"):
        strict.track("user-42", "")
    with pytest.raises(mixtrack.ValidationError, match="property 'who'"):
        strict.track("user-42", "Viewed", {"who": object()})
    lenient = mixtrack.Client("tok", disabled=True)
    lenient.track("user-42", "", {})
    lenient.track("user-42", "Viewed", {"who": object()})
    assert lenient.stats().invalid == 2 and lenient.stats().enqueued == 0
    strict.shutdown(1)
    lenient.shutdown(1)


def test_the_environment_switch_turns_off_every_client(
    monkeypatch: pytest.MonkeyPatch, mixtrack_collector: Collector
) -> None:
    monkeypatch.setenv("MIXTRACK_DISABLED", "1")
    client = mixtrack.Client("tok", api_host=mixtrack_collector.url)
    client.track("user-42", "Signed up")
    assert client.stats().disabled is True
    assert client.shutdown(timeout=2)
    assert mixtrack_collector.stats()["requests"] == 0
    # an argument still wins
    on = mixtrack.Client("tok", api_host=mixtrack_collector.url, disabled=False)
    on.track("user-42", "Signed up")
    assert on.shutdown(timeout=5)
    assert len(mixtrack_collector.events("Signed up")) == 1


def test_a_disabled_client_leaves_the_spool_directory_alone(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    client = mixtrack.Client("tok", spool_dir=str(spool), disabled=True)
    client.track("user-42", "Signed up")
    assert client.shutdown(1)
    assert not spool.exists()


def test_a_disabled_async_client_starts_no_task(mixtrack_collector: Collector) -> None:
    async def main() -> tuple[mixtrack.FlushResult, mixtrack.Stats, int]:
        client = mixtrack.AsyncClient("tok", api_host=mixtrack_collector.url, disabled=True)
        tasks = len(asyncio.all_tasks())
        client.track("user-42", "Signed up")
        flushed = await client.flush(timeout=2)
        started = len(asyncio.all_tasks()) - tasks
        await client.aclose()
        return flushed, client.stats(), started

    flushed, stats, started = asyncio.run(main())
    assert flushed and started == 0
    assert stats.disabled is True and stats.enqueued == 0
    assert mixtrack_collector.stats()["requests"] == 0
