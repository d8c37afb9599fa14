"""Fixtures for the Flask integration: apps on the real collector, real servers, real Redis."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import mixtrack_flask
import pytest
from flask import Flask
from jinja2 import DictLoader

from mixtrack.exposure import Ledger
from tests._redis import RedisServer

REPO = Path(__file__).resolve().parents[2]
_APP_NUMBERS = itertools.count(1)
PRICING = {"pricing_page_layout": {"variants": {"grid": 50, "list": 50}}}

PAGES = {
    "pricing.html": (
        '{% set layout = experiment("pricing_page_layout") %}'
        "<p>{{ layout }}</p>"
        '{{ track_on_render("Viewed pricing", layout=layout.name) }}'
    ),
    "broken.html": (
        '{% set layout = experiment("pricing_page_layout") %}'
        '{{ track_on_render("Viewed pricing", layout=layout.name) }}'
        "{{ missing.attribute.lookup }}"
    ),
    "branches.html": (
        '{% if show %}{% set layout = experiment("pricing_page_layout") %}{{ layout }}'
        "{% else %}nothing to see{% endif %}"
    ),
    "exposes.html": "{{ expose(layout) }}<p>{{ layout }}</p>",
}


def exposures(collector: Any, distinct_id: str | None = None) -> list[dict[str, Any]]:
    """``$experiment_started`` events at the collector (for one visitor if given)."""
    found: list[dict[str, Any]] = collector.events("$experiment_started", distinct_id)
    return found


def visitor_id(app: Flask, client: Any) -> str:
    """The anonymous id in a test client's signed cookie."""
    state = mixtrack_flask.app_state(app)
    cookie = client.get_cookie(state.settings.cookie_name)
    assert cookie is not None, "no anonymous-id cookie was set"
    device_id = state.web.signer.unsign(cookie.value)
    assert device_id is not None
    return "$device:" + device_id


@pytest.fixture
def make_app(mixtrack_client: Any) -> Callable[..., Flask]:
    """Build a Flask app wired to the test collector; ``pages`` are its templates."""

    def build(
        *,
        flags: Any = PRICING,
        ledger: Ledger | str | None = None,
        pages: Mapping[str, str] = PAGES,
        identity_loader: Any = None,
        **config: Any,
    ) -> Flask:
        app = Flask(f"test_app_{next(_APP_NUMBERS)}")
        app.config.update({"SECRET_KEY": "test-secret", **config})
        app.jinja_loader = DictLoader(dict(pages))
        mixtrack_flask.Mixtrack(
            app,
            client=mixtrack_client,
            flags=flags,
            ledger=ledger,
            identity_loader=identity_loader,
        )
        return app

    return build


# -- real processes ---------------------------------------------------------------------------


class Server:
    """A server in a subprocess on 127.0.0.1, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, command: Sequence[str], port: int, env: Mapping[str, str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            list(command),
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{err.decode()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0, trust_env=False).text == "ok":
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} not healthy after {timeout}s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(command: Sequence[str], port: int, env: Mapping[str, str]) -> Server:
        server = Server(command, port, env)
        servers.append(server)
        server.wait_healthy()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


def gunicorn_command(*args: str) -> list[str]:
    found = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("gunicorn is missing: pip install -e '.[dev]'")
    return [found, *args]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
