"""Real job runners for the background-job tests: a redis-server per module, and worker
processes started from the command line exactly as users start them, pointed at the
session's real collector through ``MIXTRACK_*`` variables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mixtrack.testing import Collector
from tests._redis import RedisServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "jobs-token"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def worker_env(collector: Collector, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker process: the collector, the broker, and a flush interval
    of an hour, so that what arrives early was delivered by a flush, not by the timer."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
        PYTHONUNBUFFERED="1",
        MIXTRACK_TOKEN=TOKEN,
        MIXTRACK_API_HOST=collector.url,
        MIXTRACK_FLUSH_INTERVAL="3600",
        MIXTRACK_SHUTDOWN_TIMEOUT="10",
        JOBS_REDIS_URL=redis_url,
    )
    env.update(extra)
    return env


class Process:
    """A worker subprocess whose output goes to a file (shown when a test fails)."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def signal(self, sig: signal.Signals) -> None:
        self.popen.send_signal(sig)

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker did not stop in {timeout}s:\n{self.output()}") from None

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-6000:]

    def close(self) -> None:
        self.kill()
        self._out.close()


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[object]:
    """Starts worker processes; whatever is still running at the end of the test is killed."""
    started: list[Process] = []

    def start(command: list[str], env: dict[str, str]) -> Process:
        process = Process(command, env, tmp_path / f"process-{len(started)}.log")
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.close()


PYTHON = sys.executable
