"""Bad settings fail at once, with a message naming the value and the fix."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from mixtrack_django import Mixtrack

GOOD = {"TOKEN": "tok", "API_HOST": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"TOKEN": "tok", "LEDGER": "redsi://x"}, "MIXTRACK['LEDGER'] must be 'cache', 'memory'"),
        ({**GOOD, "LEDGER": 42}, "got 42"),
        ({**GOOD, "FLAGS": "no_such_module.flags"}, "cannot import 'no_such_module'"),
        ({**GOOD, "FLAGS": "tests.django.testapp.views.nothing"}, "has no 'nothing'"),
        ({**GOOD, "FLAGS": 3}, "MIXTRACK['FLAGS'] must be a FlagProvider"),
        ({**GOOD, "FLAGS": {"exp": {"a": -1}}}, "MIXTRACK['FLAGS']"),
        ({**GOOD, "API_HOST": "127.0.0.1:8765"}, "api_host must be a URL"),
        ({**GOOD, "TOKN": "x"}, "unknown key(s) 'TOKN'"),
        ({**GOOD, "LEDGER_CACHE": "sessions"}, "'sessions' is not in settings.CACHES"),
        ({**GOOD, "LEDGER_TTL": 0}, "LEDGER_TTL"),
        ({**GOOD, "COOKIE_MAX_AGE": "1y"}, "COOKIE_MAX_AGE"),
        ({**GOOD, "USER_PROPERTIES": 5}, "must be a callable taking the user"),
        ({**GOOD, "CLIENT_OPTIONS": {"batch_sise": 5}}, "CLIENT_OPTIONS"),
        ({**GOOD, "ON_LEDGER_ERROR": "ignore"}, "'memory', 'expose' or 'skip'"),
        ("tok", "settings.MIXTRACK must be a dict"),
    ],
)
def test_bad_settings_are_improperly_configured(setting: Any, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        Mixtrack(setting)


def test_missing_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIXTRACK_TOKEN", raising=False)
    with pytest.raises(ImproperlyConfigured, match=r"no token.*MIXTRACK\['TOKEN'\]"):
        Mixtrack({"API_HOST": "http://127.0.0.1:9"})


def test_override_settings_with_a_bad_value_raises_and_restores(settings: Any) -> None:
    from mixtrack_django import get_mixtrack

    before = get_mixtrack().options.raw
    with pytest.raises(ImproperlyConfigured, match="'nowhere'"):
        settings.MIXTRACK = {**GOOD, "LEDGER": "nowhere"}
    assert get_mixtrack().options.raw == before


def test_ledger_forms(redis_url: str) -> None:
    from mixtrack_django.ledger import CacheLedger

    from mixtrack.exposure import MemoryLedger, RedisLedger

    assert isinstance(Mixtrack(GOOD).ledger, CacheLedger)
    assert isinstance(Mixtrack({**GOOD, "LEDGER": "memory"}).ledger, MemoryLedger)
    assert isinstance(Mixtrack({**GOOD, "LEDGER": redis_url}).ledger, RedisLedger)
    mine = MemoryLedger()
    assert Mixtrack({**GOOD, "LEDGER": mine}).ledger is mine


def test_system_checks_find_a_missing_or_misplaced_middleware(settings: Any) -> None:
    from mixtrack_django.checks import check_middleware

    assert check_middleware() == []
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    ours = "mixtrack_django.middleware.MixtrackMiddleware"
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != ours]
    assert [m.id for m in check_middleware()] == ["mixtrack_django.W001"]
    settings.MIDDLEWARE = [ours, auth]
    assert [m.id for m in check_middleware()] == ["mixtrack_django.W002"]


def test_tags_without_the_request_say_what_to_add() -> None:
    from django.template import Context, Template, TemplateSyntaxError

    page = Template('{% load mixtrack %}{% experiment "pricing_page_layout" as v %}')
    with pytest.raises(TemplateSyntaxError, match=re.escape("context_processors.request")):
        page.render(Context({}))
    with pytest.raises(
        TemplateSyntaxError, match=re.escape('write {% experiment "experiment_name"')
    ):
        Template('{% load mixtrack %}{% experiment "pricing_page_layout" %}')
