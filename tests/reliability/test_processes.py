"""Pre-fork servers and multiprocessing: events from every process arrive exactly once, and a
fork taken while other threads track heavily never leaves the child deadlocked.

(Kill -9 with the spool on is covered by ``tests/spool/test_spool.py``:
``test_sigkill_at_random_points_loses_nothing_acknowledged``.)
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

import mixtrack
from tests.reliability import _procs
from tests.reliability._support import books_checked

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"gunicorn exited early with {proc.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"gunicorn did not listen on {port} within {timeout}s")


def test_gunicorn_preload_three_workers_every_request_once(mixtrack_collector, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "MIXTRACK_TOKEN": "reliability-token",
        "MIXTRACK_API_HOST": mixtrack_collector.url,
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--preload", "--workers", "3",
            "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "15",
            "tests.reliability._wsgi_app:app",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        wait_listening(port, proc)
        requests = 240

        def get(rid: int) -> str:
            with httpx.Client(trust_env=False, timeout=10) as http:
                response = http.get(f"http://127.0.0.1:{port}/", params={"rid": rid})
                response.raise_for_status()
                return response.text

        with ThreadPoolExecutor(8) as pool:
            served_by = list(pool.map(get, range(requests)))
    finally:
        proc.send_signal(signal.SIGTERM)  # workers drain their clients at exit
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(
                "gunicorn did not stop within 30 s of SIGTERM:\n"
                + (tmp_path / "gunicorn.log").read_text()[-3000:]
            ) from None
        finally:
            log.close()
    assert proc.returncode == 0, (tmp_path / "gunicorn.log").read_text()[-3000:]

    events = mixtrack_collector.events("Request served")
    rids = collections.Counter(e["properties"]["rid"] for e in events)
    assert sorted(rids) == sorted(str(i) for i in range(requests)), "requests without an event"
    assert max(rids.values()) == 1, [rid for rid, n in rids.items() if n > 1]
    workers = {e["properties"]["pid"] for e in events}
    assert workers == {int(pid) for pid in served_by}
    assert len(workers) >= 2, "the test needs requests spread over several workers"
    assert len(mixtrack_collector.events("App loaded")) == 1  # the master's, sent once


def check_children(collector, tags: list[str], count: int) -> None:
    for tag in tags:
        seqs = collections.Counter(
            e["properties"]["seq"] for e in collector.events("Child event", tag=tag)
        )
        assert sorted(seqs) == list(range(count)), f"{tag}: missing {set(range(count)) - set(seqs)}"
        assert max(seqs.values()) == 1, f"{tag}: duplicates"


def test_multiprocessing_fork_children_share_nothing_and_send_once(mixtrack_collector):
    client = mixtrack.Client(
        "reliability-token", api_host=mixtrack_collector.url, flush_interval=0.05
    )
    try:
        for seq in range(150):  # the parent's worker threads are running when it forks
            client.track("parent", "Child event", {"tag": "parent", "seq": seq})
        context = multiprocessing.get_context("fork")
        tags = [f"fork-{n}" for n in range(3)]
        children = [
            context.Process(target=_procs.forked_child, args=(client, tag, 200)) for tag in tags
        ]
        for child in children:
            child.start()
        for child in children:
            child.join(30)
            assert child.exitcode == 0, f"child exit code {child.exitcode}"
        assert client.flush(10)
        check_children(mixtrack_collector, tags, 200)
        check_children(mixtrack_collector, ["parent"], 150)
    finally:
        client.shutdown(5)


def test_multiprocessing_spawn_children_send_once(mixtrack_collector):
    context = multiprocessing.get_context("spawn")
    tags = [f"spawn-{n}" for n in range(3)]
    children = [
        context.Process(target=_procs.spawned_child, args=(mixtrack_collector.url, tag, 200))
        for tag in tags
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0, f"child exit code {child.exitcode}"
    check_children(mixtrack_collector, tags, 200)


def test_fork_while_threads_track_heavily_child_never_deadlocks(mixtrack_collector):
    """Three threads hammer track() (queue full, drops, deliveries) while the main thread
    forks again and again; each child tracks, flushes and exits within a hard bound."""
    client = mixtrack.Client(
        "reliability-token",
        api_host=mixtrack_collector.url,
        flush_interval=0.01,
        batch_size=100,
        max_queue_events=2000,
        debug=False,
    )
    stop = threading.Event()

    def hammer(n: int) -> None:
        seq = 0
        while not stop.is_set():
            client.track(f"hammer-{n}", "Hammer", {"n": n, "seq": seq})
            seq += 1

    threads = [threading.Thread(target=hammer, args=(n,), daemon=True) for n in range(3)]
    forks = 8
    try:
        with books_checked(client):
            for thread in threads:
                thread.start()
            time.sleep(0.2)
            for round_ in range(forks):
                pid = os.fork()
                if pid == 0:  # the child: only this thread survives the fork
                    code = 0
                    try:
                        for seq in range(20):
                            client.track(
                                f"fork-{round_}", "Child event",
                                {"tag": f"fork-round-{round_}", "seq": seq},
                            )
                        code = 0 if client.flush(10) else 3
                    except BaseException:
                        code = 4
                    finally:
                        os._exit(code)
                deadline = time.monotonic() + 20
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        assert os.waitstatus_to_exitcode(status) == 0, f"round {round_}: {status}"
                        break
                    if time.monotonic() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        raise AssertionError(f"child of round {round_} deadlocked after fork")
                    time.sleep(0.01)
            stop.set()
            for thread in threads:
                thread.join(5)
            assert client.flush(15)
        check_children(mixtrack_collector, [f"fork-round-{n}" for n in range(forks)], 20)
        stats = client.stats()
        assert stats.enqueued == stats.sent + stats.dropped and stats.pending == 0
        assert stats.sent > 0
    finally:
        stop.set()
        client.shutdown(5)


def test_the_idna_codec_is_ready_before_any_delivery_thread_runs():
    """Regression: a delivery thread importing encodings.idna while a pre-fork server forks
    left workers with a half-imported codec and every request failing with
    ``LookupError: unknown encoding: idna`` (seen with gunicorn --preload)."""
    code = "import sys, mixtrack; assert 'encodings.idna' in sys.modules, 'imported lazily'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
