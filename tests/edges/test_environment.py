"""Every option not passed in code comes from MIXTRACK_*; an argument always wins."""

from __future__ import annotations

import asyncio
import logging

import pytest

import mixtrack
from mixtrack import Config, ConfigError
from mixtrack.testing import Collector


def test_client_with_only_a_token_sends_to_the_host_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, mixtrack_collector: Collector
) -> None:
    monkeypatch.setenv("MIXTRACK_API_HOST", mixtrack_collector.url)
    monkeypatch.setenv("MIXTRACK_FLUSH_INTERVAL", "0.05")
    with mixtrack.Client("tok") as client:
        assert client.config.api_host == mixtrack_collector.url
        assert client.config.flush_interval == 0.05
        client.track("user-42", "Signed up", {"plan": "pro"})
        assert client.flush(timeout=5)
    (event,) = mixtrack_collector.events("Signed up")
    assert event["properties"]["plan"] == "pro"
    assert event["properties"]["distinct_id"] == "user-42"


def test_the_token_itself_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_TOKEN", "env-token")
    client = mixtrack.Client()
    assert client.config.token == "env-token"
    client.shutdown(1)


def test_an_argument_always_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_TOKEN", "env-token")
    monkeypatch.setenv("MIXTRACK_API_HOST", "http://127.0.0.1:1")
    monkeypatch.setenv("MIXTRACK_BATCH_SIZE", "10")
    monkeypatch.setenv("MIXTRACK_GZIP", "false")
    client = mixtrack.Client("arg-token", api_host="http://127.0.0.1:2", gzip=True)
    assert client.config.token == "arg-token"
    assert client.config.api_host == "http://127.0.0.1:2"
    assert client.config.gzip is True
    assert client.config.batch_size == 10  # not passed: from the environment
    client.shutdown(1)


def test_defaults_apply_when_neither_is_given() -> None:
    client = mixtrack.Client("tok")
    assert client.config == Config(token="tok")
    client.shutdown(1)


def test_the_async_client_reads_the_same_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_API_HOST", "http://127.0.0.1:8765/")
    monkeypatch.setenv("MIXTRACK_MAX_IN_FLIGHT", "2")
    client = mixtrack.AsyncClient("tok", max_in_flight=3)
    assert client.config.api_host == "http://127.0.0.1:8765"
    assert client.config.max_in_flight == 3
    assert asyncio.run(client.aclose(1))


def test_a_config_object_is_taken_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_API_HOST", "http://127.0.0.1:1")
    client = mixtrack.Client(config=Config(token="tok"), batch_size=7)
    assert client.config.api_host == "https://api.mixpanel.com"
    assert client.config.batch_size == 7
    client.shutdown(1)


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_BATCH_SIZE", "")
    monkeypatch.setenv("MIXTRACK_API_HOST", "  ")
    config = Config.from_env(token="tok")
    assert config.batch_size == 2000 and config.api_host == "https://api.mixpanel.com"


@pytest.mark.parametrize(
    ("variable", "raw", "field", "value"),
    [
        ("MIXTRACK_DISABLED", "1", "disabled", True),
        ("MIXTRACK_DISABLED", "off", "disabled", False),
        ("MIXTRACK_INVALID", "RAISE", "invalid", "raise"),
        ("MIXTRACK_OVERFLOW", "drop_oldest", "overflow", "drop_oldest"),
        ("MIXTRACK_SPOOL_DIR", "none", "spool_dir", None),
        ("MIXTRACK_REQUEST_TIMEOUT", " 2.5 ", "request_timeout", 2.5),
    ],
)
def test_each_kind_of_value_is_parsed(variable: str, raw: str, field: str, value: object) -> None:
    config = Config.from_env({variable: raw}, token="tok")
    assert getattr(config, field) == value


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_env({"MIXTRACK_TOKEN": "t", "MIXTRACK_BATCH_SIZE": "5000"})
    assert str(info.value) == (
        "batch_size must be at most 2000 (Mixpanel's limit), got 5000 "
        "(from MIXTRACK_BATCH_SIZE='5000')"
    )
    with pytest.raises(ConfigError, match=r"MIXTRACK_INVALID='never'"):
        Config.from_env({"MIXTRACK_TOKEN": "t", "MIXTRACK_INVALID": "never"})


def test_missing_token_says_both_ways_to_give_one() -> None:
    with pytest.raises(ConfigError) as info:
        mixtrack.Client()
    message = str(info.value)
    assert "pass your Mixpanel project token" in message and "MIXTRACK_TOKEN" in message


def test_a_token_variable_that_is_set_but_empty_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIXTRACK_TOKEN", " ")
    with pytest.raises(ConfigError) as info:
        mixtrack.Client()
    assert str(info.value).startswith("MIXTRACK_TOKEN is set but empty")
    assert "set the environment variable" not in str(info.value)


def test_an_empty_token_argument_does_not_ask_for_the_variable_already_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIXTRACK_TOKEN", "env-token")
    with pytest.raises(ConfigError) as info:
        mixtrack.Client("")
    assert str(info.value) == "token must be a non-empty str (your Mixpanel project token), got ''"


@pytest.mark.parametrize(
    ("options", "hint"),
    [
        ({"host": "http://127.0.0.1:8765"}, "did you mean api_host='http://127.0.0.1:8765'?"),
        ({"flush_at": 50}, "did you mean batch_size=50?"),
        ({"max_queue_size": 10}, "did you mean max_queue_events=10?"),
        ({"send": False}, "did you mean disabled=True (mixtrack's spelling of send=False)?"),
        ({"strict": True}, "did you mean invalid='raise'"),
        ({"api_hots": "x"}, "did you mean api_host='x'?"),
        ({"flushinterval": 2}, "did you mean flush_interval=2?"),
    ],
)
def test_an_option_of_another_library_gets_a_suggestion(options: dict, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        mixtrack.Client("tok", **options)
    assert hint in str(info.value)
    name = next(iter(options))
    assert str(info.value).startswith(f"Client() has no option {name}=")


def test_an_unknown_option_without_a_lookalike_lists_the_options() -> None:
    with pytest.raises(ConfigError, match="has no option colour='red'; the options are") as info:
        mixtrack.AsyncClient("tok", colour="red")
    assert str(info.value).startswith("AsyncClient()")
    assert "api_host" in str(info.value) and "invalid" in str(info.value)
    with pytest.raises(ConfigError, match="did you mean api_host"):
        mixtrack.Client(config=Config(token="t"), host="http://127.0.0.1:8765")


def test_lookalike_variables_are_warned_about_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MIXTRACK_APIHOST", "http://127.0.0.1:8765")
    monkeypatch.setenv("MIXTRACK_HOST", "http://127.0.0.1:8765")
    monkeypatch.setenv("MIXTRACK_BATCHSIZE", "10")
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        for _ in range(3):
            mixtrack.Client("tok").shutdown(1)
    warnings = sorted(r.getMessage() for r in caplog.records)
    assert warnings == [
        "the environment variable MIXTRACK_APIHOST is not an option and is ignored; "
        "did you mean MIXTRACK_API_HOST?",
        "the environment variable MIXTRACK_BATCHSIZE is not an option and is "
        "ignored; did you mean MIXTRACK_BATCH_SIZE?",
        "the environment variable MIXTRACK_HOST is not an option and is ignored; "
        "did you mean MIXTRACK_API_HOST?",
    ]


def test_variables_other_parts_of_mixtrack_read_are_not_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("FLAGS", "LEDGER", "COOKIE_NAME", "COOKIE_SECURE", "TEST_REDIS_URL", "COLOUR"):
        monkeypatch.setenv(f"MIXTRACK_{name}", "x")
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        mixtrack.Client("tok").shutdown(1)
    assert caplog.records == []


def test_none_for_an_option_that_cannot_be_none_counts_as_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIXTRACK_TOKEN", "env-token")
    monkeypatch.setenv("MIXTRACK_API_HOST", "http://127.0.0.1:8765")
    monkeypatch.setenv("MIXTRACK_API_SECRET", "env-secret")
    # what framework settings pass for a key that is not set
    config = Config.from_env(token=None, api_host=None)
    assert config.token == "env-token" and config.api_host == "http://127.0.0.1:8765"
    assert config.api_secret == "env-secret"
    # where None is a value of its own, it is an argument like any other, and wins
    assert Config.from_env(api_secret=None).api_secret is None
