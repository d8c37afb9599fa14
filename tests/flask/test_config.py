"""Configuration: what each MIXTRACK_* key accepts, clear errors, and one state per app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mixtrack_flask
import pytest
from flask import Flask, render_template_string

from mixtrack import ConfigError
from mixtrack.exposure import MemoryLedger, RedisLedger
from mixtrack.flags import StaticFlags

from .conftest import PRICING, exposures


def app_with(**config: Any) -> Flask:
    app = Flask("configured")
    app.config.update(SECRET_KEY="s", MIXTRACK_TOKEN="tok", **config)
    return app


def test_config_keys_build_client_flags_and_ledger(redis_server: Any) -> None:
    app = app_with(
        MIXTRACK_API_HOST="http://127.0.0.1:8765/",
        MIXTRACK_FLAGS=PRICING,
        MIXTRACK_LEDGER=redis_server.url,
    )
    mixtrack_flask.Mixtrack(app)
    state = mixtrack_flask.app_state(app)
    assert state.client.config.token == "tok"
    assert state.client.config.api_host == "http://127.0.0.1:8765"
    assert isinstance(state.flags, StaticFlags)
    assert state.flags.experiments == ("pricing_page_layout",)
    assert isinstance(state.ledger, RedisLedger)
    assert state.experiments is not None and state.experiments.ledger is state.ledger


def test_defaults_memory_ledger_and_no_experiments() -> None:
    app = app_with()
    mixtrack_flask.Mixtrack(app)
    state = mixtrack_flask.app_state(app)
    assert isinstance(state.ledger, MemoryLedger)
    assert state.experiments is None


@pytest.mark.parametrize(
    ("flags", "experiments"),
    [
        ("tests.flask.flags_for_tests:PROVIDER", ("pricing_page_layout",)),
        ("tests.flask.flags_for_tests.PROVIDER", ("pricing_page_layout",)),
        ("tests.flask.flags_for_tests:make_provider", ("onboarding",)),
    ],
)
def test_flags_by_dotted_path(flags: str, experiments: tuple[str, ...]) -> None:
    app = app_with(MIXTRACK_FLAGS=flags)
    mixtrack_flask.Mixtrack(app)
    assert mixtrack_flask.app_state(app).flags.experiments == experiments  # type: ignore[union-attr]


def test_flags_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(PRICING))
    app = app_with(MIXTRACK_FLAGS=str(path))
    mixtrack_flask.Mixtrack(app)
    assert mixtrack_flask.app_state(app).flags.experiments == ("pricing_page_layout",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"MIXTRACK_LEDGER": "memcached://127.0.0.1"},
            "MIXTRACK_LEDGER must be 'memory', a redis:// URL or a Ledger, got 'memcached",
        ),
        ({"MIXTRACK_LEDGER": 3}, "MIXTRACK_LEDGER must be 'memory', a redis:// URL or a Ledger"),
        ({"MIXTRACK_FLAGS": ["pricing_page_layout"]}, "MIXTRACK_FLAGS must be a flag provider"),
        ({"MIXTRACK_FLAGS": "tests.flask.flags_for_tests:NOT_A_PROVIDER"}, "got 42"),
        ({"MIXTRACK_FLAGS": "tests.flask.no_such_module:FLAGS"}, "cannot import"),
        ({"MIXTRACK_FLAGS": "tests.flask.flags_for_tests:MISSING"}, "has no 'MISSING'"),
        ({"MIXTRACK_FLAGS": "nodots"}, "not a dotted path"),
        ({"MIXTRACK_API_HOST": "127.0.0.1:8765"}, "api_host must be a URL"),
        ({"MIXTRACK_COOKIE_NAME": ""}, "MIXTRACK_COOKIE_NAME"),
        ({"MIXTRACK_COOKIE_SECURE": "yes"}, "MIXTRACK_COOKIE_SECURE must be True, False or None"),
        ({"MIXTRACK_IDENTITY": "merged"}, "MIXTRACK_IDENTITY must be 'simplified' or 'original'"),
        ({"MIXTRACK_TRUSTED_PROXIES": ["10.0.0.300"]}, "MIXTRACK_TRUSTED_PROXIES: '10.0.0.300'"),
        ({"MIXTRACK_CONTEXT": ["ip", "gps"]}, "MIXTRACK_CONTEXT: unknown context group"),
        ({"MIXTRACK_TOKN": "tok"}, "unknown config key.*'MIXTRACK_TOKN'"),
    ],
)
def test_bad_config_is_a_clear_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        mixtrack_flask.Mixtrack(app_with(**config))


def test_a_missing_token_says_where_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIXTRACK_TOKEN", raising=False)
    app = Flask("tokenless")
    app.secret_key = "dev"
    with pytest.raises(ConfigError, match=r"set app.config\['MIXTRACK_TOKEN'\]"):
        mixtrack_flask.Mixtrack(app)


def test_the_token_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_TOKEN", "from-env")
    app = Flask("env")
    app.secret_key = "dev"
    mixtrack_flask.Mixtrack(app)
    assert mixtrack_flask.app_state(app).client.config.token == "from-env"


def test_experiments_without_flags_is_a_clear_error(make_app: Any) -> None:
    app = make_app(flags=None)

    @app.get("/")
    def page() -> str:
        return render_template_string('{{ experiment("pricing_page_layout") }}')

    app.testing = True  # let the error reach the test
    with pytest.raises(ConfigError, match="no flag provider"):
        app.test_client().get("/", buffered=True)


def test_a_missing_secret_key_is_refused_at_setup(mixtrack_client: Any) -> None:
    app = Flask("no_secret")
    with pytest.raises(ConfigError, match=r"set app\.secret_key \(SECRET_KEY\) before Mixtrack"):
        mixtrack_flask.Mixtrack(app, client=mixtrack_client)
    assert "mixtrack" not in app.extensions


def test_init_app_twice_on_one_app_is_refused() -> None:
    app = app_with()
    mt = mixtrack_flask.Mixtrack(app)
    with pytest.raises(RuntimeError, match="already set up"):
        mt.init_app(app)


def test_two_apps_in_one_process_keep_separate_state(mixtrack_collector: Any) -> None:
    mt = mixtrack_flask.Mixtrack()
    apps = []
    for token in ("token-a", "token-b"):
        app = Flask(f"app_{token}")
        app.config.update(
            SECRET_KEY=f"secret-{token}",
            MIXTRACK_TOKEN=token,
            MIXTRACK_API_HOST=mixtrack_collector.url,
            MIXTRACK_FLAGS=PRICING,
            MIXTRACK_COOKIE_NAME=f"anon_{token}",
        )
        mt.init_app(app)

        @app.get("/")
        def page() -> str:
            return render_template_string(
                '{{ experiment("pricing_page_layout") }}{{ track_on_render("Viewed") }}'
            )

        apps.append(app)
    a, b = (mixtrack_flask.app_state(app) for app in apps)
    assert a.client is not b.client and a.ledger is not b.ledger
    assert a.experiments is not b.experiments

    visitor_a, visitor_b = apps[0].test_client(), apps[1].test_client()
    for _ in range(2):
        visitor_a.get("/", buffered=True)
        visitor_b.get("/", buffered=True)
    with apps[0].app_context():
        assert mt.client is a.client
    assert a.client.flush(5.0) and b.client.flush(5.0)
    found = exposures(mixtrack_collector)
    assert sorted(event["properties"]["token"] for event in found) == ["token-a", "token-b"]
    assert len(mixtrack_collector.events("Viewed")) == 4
    assert a.experiments is not None and a.experiments.stats().exposed == 1
    assert b.experiments is not None and b.experiments.stats().exposed == 1
    for state in (a, b):
        state.client.shutdown(5.0)
