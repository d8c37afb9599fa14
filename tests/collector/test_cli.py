"""``mixtrack collector`` as a user runs it: a subprocess, stopped by a signal."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from mixtrack.cli import build_parser
from tests.collector._helpers import event


def start(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mixtrack.cli", "collector", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("mixtrack collector listening on http://127.0.0.1:"), first
    url = first.split()[4]
    assert process.stdout.readline().strip() == f"live view: {url}/"
    return process, url, first


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_loses_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "events.sqlite3"
    process, url, _ = start("--db", str(db))
    accepted: list[str] = []
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(base_url=url, trust_env=False, timeout=5) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                insert_id = f"w{worker}-{i}"
                try:
                    answer = http.post("/import", json=[event(**{"$insert_id": insert_id})] * 1)
                except httpx.HTTPError:
                    return  # the server went away: nothing more can be accepted
                if answer.status_code == 200:
                    accepted.append(insert_id)

    senders = [threading.Thread(target=sender, args=(w,)) for w in range(3)]
    for thread in senders:
        thread.start()
    deadline = time.monotonic() + 15
    while len(accepted) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(sig)
    out, err = process.communicate(timeout=20)
    stop.set()
    for thread in senders:
        thread.join(10)
    assert process.returncode == 0, err
    assert "mixtrack collector: stopped" in out
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT insert_id FROM events")}
    assert set(accepted) <= stored  # every answered request is on disk


def test_count_only_reports_its_count(tmp_path: Path) -> None:
    process, url, banner = start("--count-only")
    records = [event(**{"$insert_id": f"i{i}"}) for i in range(5)]
    httpx.post(f"{url}/import", json=records, trust_env=False).raise_for_status()
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=20)
    assert "counting only, nothing stored" in banner
    assert "stopped (5 events counted)" in out


def test_tokens_and_secrets_from_the_command_line(tmp_path: Path) -> None:
    process, url, _ = start("--db", ":memory:", "--token", "t1", "--secret", "s1")
    try:
        with httpx.Client(base_url=url, trust_env=False) as http:
            assert http.post("/import", json=[event(token="t1")]).status_code == 401
            assert (
                http.post("/import", json=[event(token="t1")], auth=("s1", "")).status_code == 200
            )
            form = {"data": json.dumps([event(token="t2")]), "verbose": "1"}
            assert "unknown project token 't2'" in http.post("/track", data=form).json()["error"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_parser_has_room_for_more_subcommands() -> None:
    args = build_parser().parse_args(
        ["collector", "--port", "9000", "--token", "a", "--token", "b"]
    )
    assert (args.port, args.token, args.db) == (9000, ["a", "b"], "mixtrack-collector.sqlite3")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["collector", "--port", "not-a-port"])


def run_collector(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixtrack.cli", "collector", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    process, url, _ = start("--db", ":memory:")
    try:
        port = url.rsplit(":", 1)[1]
        done = run_collector("--port", port, "--db", str(tmp_path / "other.sqlite3"))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line == (
        f"mixtrack collector: port {port} on 127.0.0.1 is already in use (another mixtrack "
        "collector?): stop that process, or pass --port with another port (--port 0 picks a "
        "free one)"
    )


@pytest.mark.parametrize(
    ("make_db", "why"),
    [
        (
            lambda tmp: tmp / "missing" / "events.sqlite3",
            "the folder '{tmp}/missing' does not exist",
        ),
        (lambda tmp: tmp, "it is a directory"),
        (lambda tmp: _text_file(tmp / "notes.txt"), "the file is not a SQLite database"),
    ],
    ids=["no-folder", "directory", "not-sqlite"],
)
def test_a_db_that_cannot_be_opened_is_one_clear_line(
    tmp_path: Path, make_db: object, why: str
) -> None:
    db = make_db(tmp_path)  # type: ignore[operator]
    done = run_collector("--port", "0", "--db", str(db))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == (
        f"mixtrack collector: cannot open the database {str(db)!r}: "
        f"{why.format(tmp=tmp_path)}; pass --db with the path of a new or existing collector "
        "database in a writable folder, or --db :memory:"
    )
    assert "Traceback" not in done.stderr


def _text_file(path: Path) -> Path:
    path.write_text("not a database, just some notes\n" * 200)
    return path


def test_identity_option_reaches_the_collector(tmp_path: Path) -> None:
    process, url, _ = start("--db", ":memory:", "--identity", "original")
    try:
        record = event("$identify", "user-1", **{"$anon_distinct_id": "anon-1"})
        httpx.post(f"{url}/track", data={"data": json.dumps([record])}, trust_env=False)
        answer = httpx.get(
            f"{url}/_mixtrack/identity", params={"distinct_id": "anon-1"}, trust_env=False
        ).json()
        assert answer == {
            "distinct_id": "anon-1",
            "canonical": "user-1",
            "cluster": ["user-1", "anon-1"],
            "mode": "original",
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_version_is_the_package_version() -> None:
    from mixtrack import __version__

    result = subprocess.run(
        [sys.executable, "-m", "mixtrack.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout == f"mixtrack {__version__}\n"
