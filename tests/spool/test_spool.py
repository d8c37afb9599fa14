"""The durable spool: nothing acknowledged is lost when the process is killed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mixtrack
from mixtrack._delivery.spool import decode_line, encode_record


def test_records_round_trip_and_corruption_is_detected():
    line = encode_record("import", {"event": "E", "properties": {"i": 1, "s": "line\nbreak"}})
    assert line.count(b"\n") == 1
    assert decode_line(line) == (
        "import",
        {"event": "E", "properties": {"i": 1, "s": "line\nbreak"}},
    )
    assert decode_line(line[:-5]) is None  # torn
    flipped = line.replace(b'"i":1', b'"i":2')
    assert decode_line(flipped) is None  # checksum mismatch
    assert decode_line(b"garbage\n") is None


def test_outage_goes_to_disk_not_memory_and_is_delivered_after(tmp_path, mixtrack_collector):
    mixtrack_collector.faults("status", status=503, count=10_000)
    client = mixtrack.Client(
        "tok",
        api_host=mixtrack_collector.url,
        spool_dir=str(tmp_path),
        flush_interval=0.05,
        max_queue_events=200,
        batch_size=100,
        max_backoff=0.05,
        max_attempts=10_000,
    )
    for i in range(3000):
        client.track("u", "Spooled", {"i": i})
    stats = client.stats()
    assert stats.pending == 3000 and stats.dropped == 0
    assert client._queue._memory <= 200  # memory window bounded
    mixtrack_collector.clear_faults()
    assert client.flush(30)
    assert client.shutdown(5)
    events = mixtrack_collector.events("Spooled")
    assert sorted(e["properties"]["i"] for e in events) == list(range(3000))
    assert list(tmp_path.iterdir()) == []  # settled segments are deleted


def test_disk_bound_applies_the_overflow_policy(tmp_path):
    client = mixtrack.Client(
        "tok",
        api_host="http://127.0.0.1:9",
        spool_dir=str(tmp_path),
        spool_max_bytes=50_000,
        spool_segment_bytes=10_000,
        max_backoff=0.05,
        request_timeout=0.2,
    )
    for i in range(2000):
        client.track("u", "E", {"i": i})
    stats = client.stats()
    assert stats.dropped > 0 and stats.pending + stats.dropped == 2000
    size = sum(f.stat().st_size for f in tmp_path.rglob("seg-*.log"))
    assert size <= 50_000
    client.shutdown(0.2)


CHILD = textwrap.dedent("""
    import sys, mixtrack
    spool, url, run = sys.argv[1], sys.argv[2], sys.argv[3]
    client = mixtrack.Client("tok", api_host=url, spool_dir=spool, flush_interval=0.02,
                             batch_size=50, max_backoff=0.05, request_timeout=1)
    i = 0
    while True:
        client.track("killed", "Acknowledged", {"run": int(run), "i": i})
        sys.stdout.write(f"{i}\\n")
        sys.stdout.flush()
        i += 1
""")


@pytest.mark.parametrize("reachable", [False, True], ids=["collector-down", "collector-up"])
def test_sigkill_at_random_points_loses_nothing_acknowledged(
    tmp_path, mixtrack_collector, reachable
):
    rng = random.Random(7 if reachable else 11)
    url = mixtrack_collector.url if reachable else "http://127.0.0.1:9"
    acknowledged: set[tuple[int, int]] = set()
    for run in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), url, str(run)],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.6 + rng.random() * 0.6)
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=10)
        lines = out.split("\n")[:-1]  # the last, maybe partial, line is not an acknowledgement
        acknowledged.update((run, int(i)) for i in lines)
    assert len(acknowledged) > 100
    # the next process on the same spool_dir delivers what the dead ones left
    with mixtrack.Client(
        "tok", api_host=mixtrack_collector.url, spool_dir=str(tmp_path), flush_interval=0.02
    ) as client:
        assert client.flush(30)
    events = mixtrack_collector.events("Acknowledged")
    delivered = [(e["properties"]["run"], e["properties"]["i"]) for e in events]
    assert len(delivered) == len(set(delivered))  # exactly once
    assert acknowledged <= set(delivered)  # nothing acknowledged lost


def test_torn_and_corrupt_records_are_skipped_counted_and_the_rest_delivered(
    tmp_path, mixtrack_collector, caplog
):
    orphan = tmp_path / "p1-deadbeef"
    orphan.mkdir()
    (orphan / "lock").touch()
    lines = [
        encode_record(
            "import",
            {
                "event": "Recovered",
                "properties": {
                    "token": "tok",
                    "distinct_id": "u",
                    "time": 1_700_000_000_000 + i,
                    "$insert_id": f"rec{i}",
                    "i": i,
                },
            },
        )
        for i in range(10)
    ]
    corrupt = lines[4].replace(b'"i":4', b'"i":9')
    (orphan / "seg-00000001.log").write_bytes(
        b"".join(lines[:4]) + corrupt + b"".join(lines[5:9]) + lines[9][:20]
    )
    with mixtrack.Client(
        "tok", api_host=mixtrack_collector.url, spool_dir=str(tmp_path), flush_interval=0.02
    ) as client:
        assert client.flush(10)
        stats = client.stats()
    assert stats.spool_corrupt == 2 and stats.sent == 8
    assert "torn or corrupt" in caplog.text
    got = sorted(e["properties"]["i"] for e in mixtrack_collector.events("Recovered"))
    assert got == [0, 1, 2, 3, 5, 6, 7, 8]


def test_two_live_processes_do_not_share_a_spool(tmp_path):
    a = mixtrack.Client(
        "tok", api_host="http://127.0.0.1:9", spool_dir=str(tmp_path), request_timeout=0.2
    )
    b = mixtrack.Client(
        "tok", api_host="http://127.0.0.1:9", spool_dir=str(tmp_path), request_timeout=0.2
    )
    a.track("u", "A")
    b.track("u", "B")
    dirs = [p for p in Path(tmp_path).iterdir() if p.is_dir()]
    assert len(dirs) == 2  # each writer has its own directory and lock; b adopted nothing of a's
    assert b.stats().enqueued == 1
    a.shutdown(0.2)
    b.shutdown(0.2)


def test_at_the_disk_bound_drop_oldest_keeps_the_newest(tmp_path, mixtrack_collector):
    client = mixtrack.Client(
        "tok",
        api_host="http://127.0.0.1:9",
        spool_dir=str(tmp_path),
        spool_max_bytes=50_000,
        spool_segment_bytes=10_000,
        overflow="drop_oldest",
        batch_size=20,
        max_in_flight=1,
        request_timeout=0.2,
    )
    for i in range(2000):
        client.track("u", "Oldest dropped", {"i": i})
    stats = client.stats()
    assert stats.drops["spool full"] == stats.dropped > 0
    assert stats.pending + stats.dropped == 2000
    size = sum(f.stat().st_size for f in tmp_path.rglob("seg-*.log"))
    assert size <= 50_000
    client.shutdown(0.2)
    with mixtrack.Client(
        "tok", api_host=mixtrack_collector.url, spool_dir=str(tmp_path), flush_interval=0.02
    ) as later:
        assert later.flush(10)
    kept = sorted(e["properties"]["i"] for e in mixtrack_collector.events("Oldest dropped"))
    assert len(kept) == stats.pending
    assert kept[-100:] == list(range(1900, 2000))  # the newest are the ones kept
