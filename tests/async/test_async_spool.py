"""AsyncClient with ``spool_dir``: the same durable spool as Client, on an event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import mixtrack


def test_async_client_spools_and_delivers_every_event(tmp_path: Path, mixtrack_collector) -> None:
    async def main() -> mixtrack.Stats:
        async with mixtrack.AsyncClient(
            "tok", api_host=mixtrack_collector.url, spool_dir=str(tmp_path), flush_interval=0.02
        ) as client:
            for seq in range(500):
                client.track(f"user-{seq % 10}", "Async spooled", {"seq": seq})
            assert list(tmp_path.rglob("seg-*.log"))  # on disk before track() returned
            assert await client.flush(timeout=10)
            return client.stats()

    stats = asyncio.run(main())
    assert stats.sent == 500 and stats.dropped == 0
    seqs = [e["properties"]["seq"] for e in mixtrack_collector.events("Async spooled")]
    assert sorted(seqs) == list(range(500))
    assert list(tmp_path.iterdir()) == []  # settled segments and the directory are removed


def test_what_an_async_client_could_not_send_waits_on_disk_for_the_next_process(
    tmp_path: Path, mixtrack_collector
) -> None:
    async def offline() -> tuple[bool, mixtrack.Stats]:
        client = mixtrack.AsyncClient(
            "tok", api_host="http://127.0.0.1:9", spool_dir=str(tmp_path), request_timeout=0.2
        )
        for seq in range(200):
            client.track("user-1", "Async left on disk", {"seq": seq})
        return await client.aclose(timeout=0.3), client.stats()

    delivered, stats = asyncio.run(offline())
    assert not delivered
    assert stats.dropped == 0 and stats.pending == 200  # kept, not dropped
    assert list(tmp_path.rglob("seg-*.log"))

    async def online() -> Any:
        async with mixtrack.AsyncClient(
            "tok", api_host=mixtrack_collector.url, spool_dir=str(tmp_path), flush_interval=0.02
        ) as client:
            assert await client.flush(timeout=10)
            return client.stats()

    later = asyncio.run(online())
    assert later.sent == 200
    seqs = [e["properties"]["seq"] for e in mixtrack_collector.events("Async left on disk")]
    assert sorted(seqs) == list(range(200))


def test_async_client_takes_every_option_of_client() -> None:
    options = {
        "max_elapsed": 30.0,
        "max_attempts": 5,
        "backoff_initial": 0.5,
        "max_backoff": 10.0,
        "spool_fsync": "batch",
        "overflow": "drop_oldest",
    }
    client = mixtrack.AsyncClient("tok", api_host="http://127.0.0.1:9", **options)
    for name, value in options.items():
        assert getattr(client.config, name) == value
    assert client.config == mixtrack.Client("tok", api_host="http://127.0.0.1:9", **options).config
