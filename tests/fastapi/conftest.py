"""The FastAPI test app under a real uvicorn, on 127.0.0.1, sending to the test collector."""

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

from tests._agents import PERSON
from tests._redis import free_port

ROOT = Path(__file__).resolve().parents[2]


class Uvicorn:
    """``uvicorn tests.fastapi.app:app`` in a subprocess, waited for through ``/health``."""

    def __init__(self, collector_url: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MIXTRACK_")}
        environment.update(
            MIXTRACK_API_HOST=collector_url,
            MIXTRACK_FLUSH_INTERVAL="0.05",
            PYTHONPATH=str(ROOT),
            NO_PROXY="127.0.0.1,localhost",
        )
        environment.update(env)
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "tests.fastapi.app:app",
                "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
                # mixtrack reads X-Forwarded-For itself, through TRUSTED_PROXIES only
                "--no-proxy-headers",
            ],
            cwd=ROOT, env=environment, stdout=self._log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0, trust_env=False).text == "ok":
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not answer: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def browser(self, **kwargs: Any) -> httpx.Client:
        """A client that keeps cookies, like one browser."""
        headers = {**PERSON, **kwargs.pop("headers", {})}
        return httpx.Client(
            base_url=self.url, headers=headers, trust_env=False, timeout=20, **kwargs
        )

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def stop(self) -> int:
        """SIGTERM: uvicorn runs the lifespan shutdown, which closes the client."""
        if self._log_file.closed:
            return self.process.returncode
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
def start_uvicorn(mixtrack_collector: Any, tmp_path: Path) -> Iterator[Callable[..., Uvicorn]]:
    servers: list[Uvicorn] = []

    def start(**env: str) -> Uvicorn:
        server = Uvicorn(mixtrack_collector.url, tmp_path / f"uvicorn-{len(servers)}.log", **env)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def uvicorn_app(start_uvicorn: Callable[..., Uvicorn]) -> Uvicorn:
    return start_uvicorn()
