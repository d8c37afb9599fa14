"""How fast does the collector ingest? 50-event gzip batches to /import, over keep-alive.

Runs ``mixtrack collector`` in a subprocess (SQLite store in a temp dir, or ``--count-only``)
and posts pre-encoded batches from a few client threads, then reads the stored count back.

    python bench/collector_ingest.py [--events 300000] [--clients 4] [--count-only]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def batches(count: int, size: int) -> list[bytes]:
    now = time.time()
    out = []
    for b in range(count):
        events = [
            {
                "event": "Bench event",
                "properties": {
                    "token": "BENCH",
                    "distinct_id": f"user-{(b * size + i) % 5000}",
                    "time": now,
                    "$insert_id": uuid.uuid4().hex,
                    "plan": "pro",
                    "price": 9.99,
                    "mp_lib": "bench",
                },
            }
            for i in range(size)
        ]
        out.append(gzip.compress(json.dumps(events).encode(), compresslevel=1))
    return out


def wait_ready(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/_mixtrack/stats", timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def post_all(port: int, bodies: list[bytes], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "Authorization": "Basic QkVOQ0g6",  # "BENCH:"
    }
    for body in bodies:
        conn.request("POST", "/import?strict=1", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            errors.append(f"{response.status}")
    conn.close()


def measure(events: int, batch: int = 50, clients: int = 4, count_only: bool = False) -> dict:
    """Runs the collector in a subprocess and posts ``events`` in gzip batches of ``batch``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "mixtrack.cli",
            "collector",
            "--port",
            str(port),
            "--db",
            str(Path(tmp) / "bench.sqlite3"),
        ]
        if count_only:
            command.append("--count-only")
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=os.environ.copy())
        try:
            wait_ready(url)
            bodies = batches(events // batch, batch)
            shares = [bodies[i::clients] for i in range(clients)]
            errors: list[str] = []
            threads = [threading.Thread(target=post_all, args=(port, s, errors)) for s in shares]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            with urllib.request.urlopen(url + "/_mixtrack/stats") as response:
                stats = json.load(response)
        finally:
            server.terminate()
            server.wait(15)
    sent = len(bodies) * batch
    return {
        "mode": "count-only" if count_only else "sqlite",
        "events": sent,
        "requests": len(bodies),
        "batch": batch,
        "clients": clients,
        "seconds": elapsed,
        "events_per_s": sent / elapsed,
        "requests_per_s": len(bodies) / elapsed,
        "stored": stats["events_stored"],
        "errors": len(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--count-only", action="store_true")
    args = parser.parse_args()
    r = measure(args.events, args.batch, args.clients, args.count_only)
    print(
        f"{r['mode']}: {r['events']} events in {r['requests']} requests of {r['batch']}, "
        f"{r['seconds']:.2f}s: {r['events_per_s']:,.0f} events/s "
        f"({r['requests_per_s']:,.0f} requests/s); stored {r['stored']}, errors {r['errors']}"
    )
    return 1 if r["errors"] or r["stored"] != r["events"] else 0


if __name__ == "__main__":
    sys.exit(main())
