"""The collector under sustained load from three SDK processes for a bounded time: every event
stored, no errors, and its memory flat once warmed up (SQLite store on disk)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 3
SECONDS = 10.0
RATE = 2500  # events/s per process: 7,500 events/s in all, for 10 s
#: Growth allowed between the end of the warm-up and the end of the run. Generous: SQLite's
#: page cache and the allocator settle in steps; a leak of even 100 bytes per event would
#: exceed it (75,000 events).
RSS_SLACK_MB = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_collector_under_sustained_load_stores_everything_and_holds_memory(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "mixtrack.cli", "collector", "--host", "127.0.0.1",
         "--port", str(port), "--db", str(tmp_path / "load.sqlite3")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
    )
    clients: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get_json(url + "/_mixtrack/stats")
                break
            except OSError:
                assert server.poll() is None, server.stderr and server.stderr.read()
                assert time.monotonic() < deadline, "collector did not start"
                time.sleep(0.05)
        collector = psutil.Process(server.pid)
        clients = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.reliability._load_client", url, f"load-{n}",
                 str(SECONDS), str(RATE)],
                stdout=subprocess.PIPE, text=True, cwd=ROOT,
            )
            for n in range(PROCESSES)
        ]
        time.sleep(SECONDS * 0.3)
        warm = collector.memory_info().rss
        peak = warm
        while any(c.poll() is None for c in clients):
            peak = max(peak, collector.memory_info().rss)
            time.sleep(0.2)
        books = [json.loads(c.communicate(timeout=60)[0].strip().splitlines()[-1]) for c in clients]
        end = collector.memory_info().rss
        stats = get_json(url + "/_mixtrack/stats")
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
        server.terminate()
        server.wait(15)

    for book in books:
        assert book["enqueued"] > RATE * SECONDS * 0.8, book  # the load really ran
        assert book["sent"] == book["enqueued"], f"errors under load: {book}"
    total = sum(book["sent"] for book in books)
    assert stats["events_stored"] == total
    assert stats["rejected"] == 0 and stats["duplicates_dropped"] == 0, stats
    growth_mb = (end - warm) / 2**20
    assert growth_mb < RSS_SLACK_MB, (
        f"collector RSS grew {growth_mb:.1f} MB after warm-up ({warm / 2**20:.0f} MB -> "
        f"{end / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB) over {total} events: a leak?"
    )
