"""The shared table of settings, the cookie signer, and the one behaviour of all adapters."""

from __future__ import annotations

import inspect
import re

import pytest

from mixtrack import ConfigError
from mixtrack.web import (
    OPTIONS,
    CookieSigner,
    SetCookie,
    WebSettings,
    client_options,
    read_settings,
)


def where(key: str) -> str:
    return f"MIXTRACK_{key}"


def test_defaults_are_the_table() -> None:
    settings = read_settings({}, where=where)
    assert settings == WebSettings()
    assert settings.identity == OPTIONS["IDENTITY"].default == "simplified"
    assert settings.cookie_name == "mixtrack_anon"
    assert settings.cookie_max_age == 365 * 24 * 3600
    assert settings.cookie_secure is None and settings.cookie_samesite == "Lax"
    assert settings.context == frozenset(OPTIONS["CONTEXT"].default)
    assert settings.trusted_proxies == ()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"IDENTITY": "merged"},
            "MIXTRACK_IDENTITY must be 'simplified' or 'original', got 'merged'",
        ),
        ({"COOKIE_NAME": "a b"}, "MIXTRACK_COOKIE_NAME must be a non-empty cookie name"),
        ({"COOKIE_MAX_AGE": 0}, "MIXTRACK_COOKIE_MAX_AGE must be a positive int (seconds), got 0"),
        ({"COOKIE_SECURE": "yes"}, "MIXTRACK_COOKIE_SECURE must be True, False or None"),
        ({"COOKIE_SAMESITE": "lax"}, "MIXTRACK_COOKIE_SAMESITE must be 'Lax', 'Strict'"),
        ({"CONTEXT": "ip"}, "MIXTRACK_CONTEXT must be a list of ip, user_agent"),
        ({"CONTEXT": ["ip", "gps"]}, "MIXTRACK_CONTEXT: unknown context group(s) 'gps'"),
        ({"TRUSTED_PROXIES": ["proxy.local"]}, "MIXTRACK_TRUSTED_PROXIES: 'proxy.local' is not"),
    ],
)
def test_bad_values_name_the_setting(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_settings(values, where=where)


def test_context_and_proxies_forms() -> None:
    settings = read_settings({"CONTEXT": [], "TRUSTED_PROXIES": "10.0.0.0/8"}, where=where)
    assert settings.context == frozenset()
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8"]
    assert read_settings({"CONTEXT": False}, where=where).context == frozenset()


def test_client_options_pass_only_what_is_set() -> None:
    assert client_options({}, where=where) == {}
    assert client_options({"DISABLED": None, "INVALID": None}, where=where) == {}
    assert client_options(
        {"TOKEN": "tok", "API_HOST": "http://127.0.0.1:1", "DISABLED": False, "INVALID": "raise"},
        where=where,
    ) == {"token": "tok", "api_host": "http://127.0.0.1:1", "disabled": False, "invalid": "raise"}
    with pytest.raises(ConfigError, match=r"MIXTRACK_INVALID must be 'drop' or 'raise', got 'x'"):
        client_options({"INVALID": "x"}, where=where)
    with pytest.raises(ConfigError, match=r"MIXTRACK_DISABLED must be True or False, got 1"):
        client_options({"DISABLED": 1}, where=where)


def test_signed_values_round_trip_and_forgeries_fail() -> None:
    signer = CookieSigner("secret")
    signed = signer.sign("device-1")
    assert signer.unsign(signed) == "device-1"
    assert signer.unsign("device-2." + signed.split(".")[1]) is None
    assert signer.unsign("device-1") is None and signer.unsign("") is None
    assert CookieSigner("other").unsign(signed) is None
    assert CookieSigner("new", ["secret"]).unsign(signed) == "device-1"  # rotation
    assert CookieSigner("secret", purpose="utm").unsign(signed) is None
    with pytest.raises(ConfigError, match="secret key, which is empty"):
        CookieSigner("")


def test_set_cookie_header() -> None:
    header = SetCookie("mixtrack_anon", "v.s", max_age=10, secure=False, samesite=None).header()
    assert header == "mixtrack_anon=v.s; HttpOnly; Max-Age=10; Path=/"
    session = SetCookie("mixtrack_anon_utm", "x", max_age=None, secure=True).header()
    assert "Max-Age" not in session and "Secure" in session and "SameSite=Lax" in session


def test_every_adapter_spells_the_same_table() -> None:
    from mixtrack_django._settings import DEFAULTS
    from mixtrack_fastapi import Mixtrack
    from mixtrack_flask import CONFIG_KEYS

    for name, option in OPTIONS.items():
        assert option.flask in CONFIG_KEYS
        assert name in DEFAULTS
        if name != "LEDGER":  # Django's default ledger is its cache, the one difference
            assert DEFAULTS[name] == option.default, name
    assert DEFAULTS["LEDGER"] == "cache"
    parameters = inspect.signature(Mixtrack).parameters
    for name, option in OPTIONS.items():
        keyword = "secret_key" if name == "SECRET_KEY" else name.lower()
        assert keyword in parameters, keyword
        default = parameters[keyword].default
        if name in (
            "COOKIE_NAME",
            "COOKIE_MAX_AGE",
            "COOKIE_SECURE",
            "COOKIE_SAMESITE",
            "IDENTITY",
            "LEDGER",
        ):
            assert default == option.default, name
