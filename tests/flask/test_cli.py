"""``flask mixtrack check``: one line per check, exit status 1 when any failed."""

from __future__ import annotations

from typing import Any

import mixtrack_flask
from flask import Flask

from tests._redis import free_port

from .conftest import PRICING


def checked_app(api_host: str, ledger: str) -> Flask:
    app = Flask("checked")
    app.config.update(
        SECRET_KEY="s",
        MIXTRACK_TOKEN="project-token-123",
        MIXTRACK_API_HOST=api_host,
        MIXTRACK_FLAGS=PRICING,
        MIXTRACK_LEDGER=ledger,
    )
    mixtrack_flask.Mixtrack(app)
    return app


def test_check_passes_with_a_reachable_collector_and_redis(
    mixtrack_collector: Any, redis_server: Any
) -> None:
    app = checked_app(mixtrack_collector.url, redis_server.url)
    result = app.test_cli_runner().invoke(args=["mixtrack", "check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "ok    token: set (proj…), endpoint /import"
    assert lines[1] == "ok    secret_key: set (signs the device-id cookie)"
    assert lines[2] == f"ok    api_host: {mixtrack_collector.url} answered HTTP 200"
    assert lines[3].startswith("ok    ledger: RedisLedger('redis://127.0.0.1:")
    assert lines[4] == "ok    flags: StaticFlags(['pricing_page_layout'])"
    assert lines[-1] == "mixtrack is ready"
    assert "project-token-123" not in result.output  # the token is not printed


def test_check_reports_an_unreachable_api_host_and_ledger() -> None:
    dead = free_port()  # nothing listens there
    app = checked_app(f"http://127.0.0.1:{dead}", f"redis://127.0.0.1:{dead}/0")
    result = app.test_cli_runner().invoke(args=["mixtrack", "check"])
    assert result.exit_code == 1
    assert f"error api_host: http://127.0.0.1:{dead} is not reachable (ConnectError" in (
        result.output
    )
    assert "check MIXTRACK_API_HOST" in result.output
    assert "error ledger: RedisLedger(" in result.output
    assert "check MIXTRACK_LEDGER" in result.output
    assert "2 check(s) failed" in result.output


def test_check_with_the_memory_ledger_and_no_flags(mixtrack_collector: Any) -> None:
    app = Flask("plain")
    app.config.update(
        SECRET_KEY="s", MIXTRACK_TOKEN="tok", MIXTRACK_API_HOST=mixtrack_collector.url
    )
    mixtrack_flask.Mixtrack(app)
    app.secret_key = None  # init_app refuses an app without one; the check still sees it
    result = app.test_cli_runner().invoke(args=["mixtrack", "check"])
    assert result.exit_code == 1  # no SECRET_KEY
    assert "error secret_key: not set" in result.output
    assert "1 check(s) failed" in result.output
    assert "ok    ledger: MemoryLedger(" in result.output
    assert "flags: none configured (MIXTRACK_FLAGS); experiments are off" in result.output
