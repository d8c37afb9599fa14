"""The spool when the disk fails it: full, read-only or not a folder at all, and many
processes starting at once on one ``spool_dir``."""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import mixtrack
from tests._sink import Sink
from tests.reliability._support import balanced
from tests.spool import _starters

KINDS = ["thread", "asyncio"]


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A small filesystem of its own at ``path`` (skipped where mounting is not allowed)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def closed_port_url() -> str:
    server = Sink()
    server.close()
    return server.url


def track_on(kind: str, events: int, **options: Any) -> tuple[mixtrack.Stats, mixtrack.Stats]:
    """Tracks ``events`` (none may raise), flushes briefly and shuts down; returns the stats
    after tracking and after shutdown."""
    settings = {"flush_interval": 0.05, "max_backoff": 0.1, "backoff_initial": 0.05, **options}

    def track_all(client: Any) -> mixtrack.Stats:
        for n in range(events):
            client.track(f"user-{n % 11}", "Spooled", {"n": n, "pad": "x" * 100})
        return client.stats()

    if kind == "thread":
        client = mixtrack.Client("tok", **settings)
        tracked = track_all(client)
        client.flush(timeout=3)
        client.shutdown(timeout=1)
        return tracked, client.stats()

    async def main() -> tuple[mixtrack.Stats, mixtrack.Stats]:
        client = mixtrack.AsyncClient("tok", **settings)
        tracked = track_all(client)
        await client.flush(timeout=3)
        await client.aclose(timeout=1)
        return tracked, client.stats()

    return asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_disk_never_raises_from_track_and_counts_what_it_lost(
    tmp_path: Path, kind: str
) -> None:
    # the collector is down: everything stays on a disk of 256 KiB, which fills
    reasons: list[str] = []
    with tmpfs(tmp_path / "disk", "size=256k") as disk:
        tracked, final = track_on(
            kind,
            5000,
            api_host=closed_port_url(),
            spool_dir=str(disk / "spool"),
            on_drop=lambda route, message, reason: reasons.append(reason),
        )
    assert tracked.enqueued == 5000 and balanced(tracked), tracked
    assert tracked.drops.get("spool error", 0) > 0, tracked.drops
    assert any("No space left on device" in reason for reason in reasons), reasons[:3]
    assert balanced(final) and final.enqueued == 5000, final


@pytest.mark.parametrize("kind", KINDS)
def test_on_a_full_disk_what_was_written_is_delivered_and_the_rest_counted(
    tmp_path: Path, kind: str, sink: Sink
) -> None:
    with tmpfs(tmp_path / "disk", "size=128k") as disk:
        _, final = track_on(kind, 3000, api_host=sink.url, spool_dir=str(disk / "spool"))
    assert final.enqueued == 3000 and final.pending == 0 and balanced(final), final
    assert final.drops.get("spool error", 0) > 0, final
    stored = sorted(e["properties"]["n"] for e in sink.events())
    assert len(stored) == len(set(stored)) == final.sent  # each written record once


@pytest.mark.parametrize("kind", KINDS)
def test_a_spool_dir_that_cannot_be_written_is_a_config_error_naming_it(
    tmp_path: Path, kind: str
) -> None:
    make = mixtrack.Client if kind == "thread" else mixtrack.AsyncClient
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    with pytest.raises(mixtrack.ConfigError, match="not-a-folder"):
        make("tok", spool_dir=str(a_file / "spool"))
    with (
        tmpfs(tmp_path / "readonly", "ro,size=64k") as readonly,
        pytest.raises(mixtrack.ConfigError, match=r"readonly.*Read-only file system"),
    ):
        make("tok", spool_dir=str(readonly))


# -- many processes starting at once --------------------------------------------------------


def test_eight_processes_starting_together_on_one_spool_dir_never_crash_each_other(
    tmp_path: Path, sink: Sink
) -> None:
    # half the processes of each round die without shutting down, so that the next round's
    # starters race each other to adopt their spools
    spool_dir = str(tmp_path / "spool")
    # forkserver: children start from a clean process that has imported mixtrack once, so
    # that 80 starts stay cheap and inherit nothing of this test process
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mixtrack", "tests.spool._starters"])
    tags: list[str] = []
    for round_ in range(10):
        barrier = context.Barrier(8)
        processes = []
        for n in range(8):
            tag = f"r{round_}p{n}"
            tags.extend(f"{tag}-{i}" for i in range(5))
            process = context.Process(
                target=_starters.start_and_track,
                args=(spool_dir, sink.url, tag, barrier, n % 2 == 1),
            )
            processes.append(process)
            process.start()
        for process in processes:
            process.join(60)
        codes = [process.exitcode for process in processes]
        assert codes == [0] * 8, f"round {round_}: exit codes {codes}"
    # a last process adopts whatever the crashed ones left; then every record has arrived
    last = mixtrack.Client("tok", api_host=sink.url, spool_dir=spool_dir, flush_interval=0.05)
    assert last.flush(timeout=20)
    assert last.shutdown(timeout=5)
    arrived = {e["properties"]["tag"] for e in sink.events()}
    assert arrived == set(tags), sorted(set(tags) - arrived)[:10]
