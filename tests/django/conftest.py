"""Django for the mixtrack_django tests only: settings are configured when this directory is
collected, so the other suites never see Django configured by the repository's pytest setup."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._redis import free_port

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        from tests.django import settings as test_settings

        settings.configure(
            **{name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
        )
        django.setup()


@pytest.fixture
def plugin(mixtrack_collector: Any, settings: Any) -> Iterator[Any]:
    """mixtrack_django configured for the test collector, with an empty cache ledger."""
    from django.core.cache import caches
    from mixtrack_django import get_mixtrack

    caches["default"].clear()
    settings.MIXTRACK = {
        **settings.MIXTRACK,
        "API_HOST": mixtrack_collector.url,
        "CLIENT_OPTIONS": {"flush_interval": 0.05},
    }
    current = get_mixtrack()
    undo = mixtrack_collector.before_read(lambda: current.client.flush(timeout=5.0))
    try:
        yield current
    finally:
        undo()


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIXTRACK_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.django.settings",
        MIXTRACK_TEST_SERVER="1",
        MIXTRACK_FLUSH_INTERVAL="0.05",
        PYTHONPATH=str(ROOT),
        NO_PROXY="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


class Server:
    """A server subprocess on 127.0.0.1, waited for through ``/health``."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0, trust_env=False).text == "ok":
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM (a graceful stop that drains the clients); returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()
        return self.process.returncode


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(args: list[str], port: int | None = None, **env: str) -> Server:
        port = port or free_port()
        command = [sys.executable, *[arg.format(port=port) for arg in args]]
        server = Server(command, port, server_env(**env), tmp_path / f"server-{port}.log")
        servers.append(server)
        server.wait_ready()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the session (the one the exposure tests use)."""
    from tests._redis import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
