"""``manage.py mixtrack_check`` output."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests._redis import free_port


def _check(**options: Any) -> str:
    out = io.StringIO()
    call_command("mixtrack_check", stdout=out, no_color=True, **options)
    return out.getvalue()


def test_all_good_with_a_shared_cache(
    plugin: Any, mixtrack_collector: Any, settings: Any, redis_url: str
) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    output = _check()
    assert "ok    settings: token 'mixt…ken'" in output
    assert "flags StaticFlags (1 experiment)" in output
    assert f"ok    api_host: {mixtrack_collector.url} answered HTTP" in output
    assert "ok    ledger: CacheLedger('default'" in output
    assert "all checks passed" in output


def test_local_memory_cache_is_a_warning(plugin: Any) -> None:
    output = _check()
    assert (
        "warn  ledger: cache 'default' is django.core.cache.backends.locmem.LocMemCache" in output
    )
    assert "all checks passed" in output


def test_dummy_cache_and_unreachable_host_fail(plugin: Any, settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.MIXTRACK = {**settings.MIXTRACK, "API_HOST": f"http://127.0.0.1:{free_port()}"}
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 check"):
        call_command("mixtrack_check", "--timeout", "2", stdout=out, no_color=True)
    output = out.getvalue()
    assert "FAIL  api_host: cannot reach http://127.0.0.1:" in output
    assert "FAIL  ledger: cache 'default' is django.core.cache.backends.dummy.DummyCache" in output


def test_redis_ledger(plugin: Any, settings: Any, redis_url: str) -> None:
    settings.MIXTRACK = {**settings.MIXTRACK, "LEDGER": redis_url}
    assert "ok    ledger: RedisLedger" in _check()
