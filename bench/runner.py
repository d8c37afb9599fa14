"""One library, one scenario, in a process of its own; prints one JSON line with the result.

    python -m bench.runner LIBRARY SCENARIO --url http://127.0.0.1:P --control http://... -n N

A watchdog thread prints ``{"status": "blocked", ...}`` and exits the process when the run
exceeds ``--cap`` seconds, e.g. a library whose ``track()`` waits on a hanging sink forever.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import threading
import time
import urllib.request
from typing import Any

from bench.libs import Library, make

USERS = [f"user-{i}" for i in range(1000)]


def sink(control: str, route: str = "/stats", method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(control + route, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.load(response)
        return result


def props(i: int) -> dict[str, Any]:
    return {"seq": i, "plan": "pro", "price": 9.99, "trial": False}


def rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def wait_received(control: str, count: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = sink(control)
        if stats["distinct"] >= count or time.monotonic() > deadline:
            return stats
        time.sleep(0.005)


# -- scenarios --------------------------------------------------------------------------


def latency(lib: Library, n: int, control: str, state: dict[str, Any]) -> dict[str, Any]:
    """Each track() call timed alone, while the library's worker delivers to a normal sink."""
    from time import perf_counter_ns

    track = lib.track
    samples = [0] * n
    for i in range(min(n, 2000)):  # warm-up: first connection, caches, lazy imports
        track(USERS[i % 1000], props(-1 - i))
    lib.flush(30)
    gc.collect()
    # timer overhead, so that readers can subtract it
    overhead = sorted(-perf_counter_ns() + perf_counter_ns() for _ in range(10001))[5000]
    for i in range(n):
        user, p = USERS[i % 1000], props(i)
        t0 = perf_counter_ns()
        track(user, p)
        samples[i] = perf_counter_ns() - t0
        state["done"] = i + 1
    samples.sort()
    lib.flush(60)
    return {
        "median_us": samples[n // 2] / 1000,
        "p99_us": samples[min(n - 1, int(n * 0.99))] / 1000,
        "mean_us": sum(samples) / n / 1000,
        "max_us": samples[-1] / 1000,
        "timer_overhead_us": overhead / 1000,
        "calls": n,
        "dropped": lib.dropped(),
    }


def throughput(lib: Library, n: int, control: str, state: dict[str, Any]) -> dict[str, Any]:
    """Events/s from the first track() until the sink has received all n."""
    track = lib.track
    events = [(USERS[i % 1000], props(i)) for i in range(n)]
    gc.collect()
    cpu_before = time.process_time()  # every thread of the process: callers and workers
    started = time.monotonic()
    for i, (user, p) in enumerate(events):
        track(user, p)
        state["done"] = i + 1
    tracked = time.monotonic()
    lib.flush(120)
    cpu = time.process_time() - cpu_before
    stats = wait_received(control, n, 60)
    elapsed = stats["last_at"] - started
    return {
        "events_per_s": stats["distinct"] / elapsed if elapsed > 0 else 0.0,
        "received": stats["distinct"],
        "events": n,
        "seconds": elapsed,
        "track_seconds": tracked - started,
        "cpu_s": cpu,
        "cpu_us_per_event": cpu / stats["distinct"] * 1e6 if stats["distinct"] else None,
        "requests": stats["requests"],
        "dropped": lib.dropped(),
    }


def memory(lib: Library, n: int, control: str, state: dict[str, Any]) -> dict[str, Any]:
    """RSS growth after n track() calls while the sink hangs (a bounded queue stays flat).
    Stops early, after ``--cap`` minus 5 seconds, for libraries too slow to make n calls."""
    track = lib.track
    for i in range(100):  # warm-up: threads, connections and lazy imports are not growth
        track(USERS[i], props(-1 - i))
    lib.flush(10)
    limit = time.monotonic() + max(1.0, state["cap"] - 5)
    sink(control, "/mode?name=hang", "POST")
    gc.collect()
    before = rss()
    state["rss_before"] = before
    started = time.monotonic()
    for i in range(n):
        track(USERS[i % 1000], props(i))
        if not i % 1000:
            state["done"] = i
            if time.monotonic() > limit:
                break
    else:
        state["done"] = n
    elapsed = time.monotonic() - started
    gc.collect()
    after = rss()
    queued = lib.queued()
    return {
        "growth_mb": (after - before) / 2**20,
        "queued": queued,
        "bytes_per_queued": (after - before) / queued if queued else None,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "calls": state["done"],
        "seconds": elapsed,
        "dropped": lib.dropped(),
    }


def exit_time(lib: Library, n: int, control: str, state: dict[str, Any]) -> dict[str, Any]:
    """Track n events into a hanging sink, then shut down: the parent times the exit."""
    sink(control, "/mode?name=hang", "POST")
    track = lib.track
    for i in range(n):
        track(USERS[i % 1000], props(i))
        state["done"] = i + 1
    print(json.dumps({"shutdown_at": time.monotonic()}), flush=True)
    lib.shutdown(state["budget"])
    print(json.dumps({"shutdown_returned_at": time.monotonic()}), flush=True)
    return {"pending": n, "budget_s": state["budget"], "dropped": lib.dropped()}


def outage(lib: Library, n: int, control: str, state: dict[str, Any]) -> dict[str, Any]:
    """n events at a steady rate; after 2 s the sink refuses connections for ``--outage``
    seconds (5 by default), then comes back for 2 s more."""
    track = lib.track
    down = state["outage"]
    rate = n / (down + 4.0)
    started = time.monotonic()
    mode = None
    for i in range(n):
        due = started + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elapsed = now - started
        wanted = "down" if 2.0 <= elapsed < 2.0 + down else "normal"
        if wanted != mode:
            sink(control, f"/mode?name={wanted}", "POST")
            mode = wanted
        track(USERS[i % 1000], props(i))
        state["done"] = i + 1
    sink(control, "/mode?name=normal", "POST")
    lib.flush(45)
    lib.shutdown(45)
    stats = wait_received(control, n, 5)
    return {
        "events": n,
        "received": stats["distinct"],
        "lost": n - stats["distinct"],
        "duplicates": stats["events"] - stats["distinct"],
        "dropped": lib.dropped(),
        "raised": getattr(lib, "failed", 0),
    }


SCENARIOS = {
    "latency": latency,
    "throughput": throughput,
    "memory": memory,
    "exit": exit_time,
    "outage": outage,
    "throughput_30ms": throughput,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("library")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--queue", type=int, default=None)
    parser.add_argument("--cap", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=2.0)
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the sink is down")
    args = parser.parse_args()

    state: dict[str, Any] = {
        "done": 0,
        "budget": args.budget,
        "outage": args.outage,
        "cap": args.cap,
        "n": args.n,
    }

    def watchdog() -> None:
        time.sleep(args.cap)
        if state.get("finished"):
            return
        out = {"status": "blocked", "after_s": args.cap, "done": state["done"]}
        # where it waits: in track() (fewer calls made than asked) or in shutdown/flush
        out["blocked_in"] = "track()" if state["done"] < args.n else "shutdown/flush"
        if "rss_before" in state:
            out["growth_mb"] = (rss() - state["rss_before"]) / 2**20
        print(json.dumps(out), flush=True)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="mixtrack-bench-") as spool:
        lib = make(args.library, args.url, queue=args.queue, spool_dir=spool)
        result = SCENARIOS[args.scenario](lib, args.n, args.control, state)
        result.update(status="ok", library=lib.name, version=lib.version())
        state["finished"] = True
        print(json.dumps(result), flush=True)
        if args.scenario != "exit":
            # Measured; a peer's shutdown could wait on a hung sink for minutes.
            os._exit(0)


if __name__ == "__main__":
    main()
