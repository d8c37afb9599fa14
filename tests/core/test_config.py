from __future__ import annotations

import pytest

import mixtrack
from mixtrack import Config, ConfigError


def test_from_env_reads_every_kind_of_field():
    config = Config.from_env(
        {
            "MIXTRACK_TOKEN": "tok",
            "MIXTRACK_API_HOST": "http://127.0.0.1:8765/",
            "MIXTRACK_BATCH_SIZE": "500",
            "MIXTRACK_FLUSH_INTERVAL": "0.5",
            "MIXTRACK_GZIP": "false",
            "MIXTRACK_ENDPOINT": "track",
            "MIXTRACK_SERVICE_ACCOUNT": "sa.user:pw",
            "MIXTRACK_PROJECT_ID": "42",
        }
    )
    assert config.api_host == "http://127.0.0.1:8765"
    assert config.batch_size == 500 and config.flush_interval == 0.5
    assert config.gzip is False and config.endpoint == "track"
    assert config.service_account == ("sa.user", "pw") and config.project_id == "42"


def test_keywords_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("MIXTRACK_TOKEN", "from-env")
    monkeypatch.setenv("MIXTRACK_MAX_IN_FLIGHT", "2")
    client = mixtrack.Client.from_env(max_in_flight=3)
    assert client.config.token == "from-env" and client.config.max_in_flight == 3
    client.shutdown(1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": ""}, "token must be a non-empty str"),
        (
            {"token": "t", "api_host": "api.mixpanel.com"},
            "api_host must be a URL starting with http",
        ),
        ({"token": "t", "batch_size": 5000}, "batch_size must be at most 2000"),
        ({"token": "t", "batch_size": 0}, "batch_size must be a positive int"),
        ({"token": "t", "overflow": "explode"}, "overflow must be one of"),
        ({"token": "t", "endpoint": "engage"}, "endpoint must be one of"),
        ({"token": "t", "flush_interval": -1}, "flush_interval must be a positive float"),
    ],
)
def test_bad_options_raise_config_error_naming_the_value(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Config(**kwargs)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no token: pass your Mixpanel project token"),
        ({"MIXTRACK_TOKEN": "t", "MIXTRACK_BATCH_SIZE": "many"}, "MIXTRACK_BATCH_SIZE='many'"),
        ({"MIXTRACK_TOKEN": "t", "MIXTRACK_GZIP": "maybe"}, "expected true/false"),
        ({"MIXTRACK_TOKEN": "t", "MIXTRACK_SERVICE_ACCOUNT": "nopw"}, "expected 'user:secret'"),
    ],
)
def test_bad_environment_names_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env)


def test_config_is_frozen():
    config = Config(token="t")
    with pytest.raises(AttributeError):
        config.token = "other"  # type: ignore[misc]


def test_client_accepts_a_config_and_overrides():
    base = Config(token="t", batch_size=100)
    client = mixtrack.Client(config=base, batch_size=50)
    assert client.config.batch_size == 50 and client.config.token == "t"
    client.shutdown(1)


def test_retries_are_bounded_by_time_with_mixpanels_backoff_by_default():
    config = Config(token="t")
    assert config.max_elapsed == 600.0 and config.max_attempts is None
    assert (config.backoff_initial, config.max_backoff) == (2.0, 60.0)
    from_env = Config.from_env({"MIXTRACK_TOKEN": "t", "MIXTRACK_MAX_ATTEMPTS": "5"})
    assert from_env.max_attempts == 5
    unlimited = Config.from_env({"MIXTRACK_TOKEN": "t", "MIXTRACK_MAX_ATTEMPTS": "none"})
    assert unlimited.max_attempts is None
    with pytest.raises(ConfigError, match="max_attempts must be a positive int, got 0"):
        Config(token="t", max_attempts=0)
