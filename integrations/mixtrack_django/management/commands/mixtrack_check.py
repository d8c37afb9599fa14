"""``manage.py mixtrack_check``: are the settings, the api_host and the ledger all right?

Prints one line per check and exits non-zero when one fails::

    $ python manage.py mixtrack_check
    ok    settings: token 'shop…ken', api_host http://127.0.0.1:8765, flags StaticFlags
    ok    api_host: http://127.0.0.1:8765 answered HTTP 200
    ok    ledger: CacheLedger('default') stored, read and released a probe key
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mixtrack.exposure import MemoryLedger
from mixtrack_django._runtime import Mixtrack, get_mixtrack
from mixtrack_django.ledger import CacheLedger

# Cache backends that cannot keep an exposure once across processes, and why.
_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps exposures per process only",
}
_USELESS_CACHES = {
    "django.core.cache.backends.dummy.DummyCache": "stores nothing, so every render exposes",
}


def _masked(token: str) -> str:
    return token if len(token) <= 8 else f"{token[:4]}…{token[-3:]}"


class Command(BaseCommand):
    help = "Check the MIXTRACK settings, the connection to the api_host and the exposure ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="seconds to wait for the api_host"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        try:
            plugin = get_mixtrack()
        except ImproperlyConfigured as exc:
            self._line("FAIL", f"settings: {exc}")
            raise CommandError("mixtrack_check: 1 check failed") from None
        failures += self._settings(plugin)
        failures += self._api_host(plugin, options["timeout"])
        failures += self._ledger(plugin)
        if failures:
            raise CommandError(f"mixtrack_check: {failures} check(s) failed")
        self.stdout.write(self.style.SUCCESS("mixtrack_check: all checks passed"))

    def _line(self, status: str, text: str) -> None:
        style = {
            "ok": self.style.SUCCESS,
            "warn": self.style.WARNING,
            "FAIL": self.style.ERROR,
        }[status]
        self.stdout.write(f"{style(status.ljust(5))} {text}")

    def _settings(self, plugin: Mixtrack) -> int:
        config = getattr(plugin.client, "config", None)
        token = getattr(config, "token", None)
        api_host = getattr(config, "api_host", None)
        flags = plugin.flags
        experiments = getattr(flags, "experiments", None)
        described = type(flags).__name__
        if experiments is not None:
            described += f" ({len(experiments)} experiment{'s' if len(experiments) != 1 else ''})"
        self._line(
            "ok",
            f"settings: token {_masked(token) if token else '(custom client)'!r}, "
            f"api_host {api_host or '(custom client)'}, flags {described}",
        )
        return 0

    def _api_host(self, plugin: Mixtrack, timeout: float) -> int:
        config = getattr(plugin.client, "config", None)
        api_host = getattr(config, "api_host", None)
        if api_host is None:
            self._line("warn", "api_host: a custom client without config.api_host; not checked")
            return 0
        try:
            with httpx.Client(timeout=timeout, verify=config.verify_tls) as http:  # type: ignore[union-attr]
                response = http.get(f"{api_host}/")
        except httpx.HTTPError as exc:
            self._line(
                "FAIL",
                f"api_host: cannot reach {api_host} ({type(exc).__name__}: {exc}); check "
                "MIXTRACK['API_HOST'], the network, and that the collector is running",
            )
            return 1
        self._line("ok", f"api_host: {api_host} answered HTTP {response.status_code}")
        return 0

    def _ledger(self, plugin: Mixtrack) -> int:
        ledger = plugin.ledger
        warnings = 0
        if isinstance(ledger, CacheLedger):
            backend = caches[ledger.alias]
            path = f"{type(backend).__module__}.{type(backend).__qualname__}"
            if path in _USELESS_CACHES:
                self._line(
                    "FAIL",
                    f"ledger: cache {ledger.alias!r} is {path}, which {_USELESS_CACHES[path]}; "
                    "use a shared cache (Redis, Memcached, database) or LEDGER 'redis://...'",
                )
                return 1
            if path in _LOCAL_CACHES:
                self._line(
                    "warn",
                    f"ledger: cache {ledger.alias!r} is {path}, which {_LOCAL_CACHES[path]}; "
                    "with several worker processes use a shared cache",
                )
                warnings += 1
        elif isinstance(ledger, MemoryLedger):
            self._line(
                "warn",
                "ledger: 'memory' keeps exposures per process only; with several worker "
                "processes use 'cache' on a shared cache or a redis:// URL",
            )
            warnings += 1
        key = f"mixtrack-check:{uuid.uuid4().hex}"
        try:
            added = ledger.add(key, "probe")
            read = ledger.get(key)
            released = ledger.release(key, "probe")
        except Exception as exc:
            self._line("FAIL", f"ledger: {ledger!r} failed ({type(exc).__name__}: {exc})")
            return 1
        if not (added and read == "probe" and released):
            self._line(
                "FAIL",
                f"ledger: {ledger!r} did not keep a probe key (add={added}, get={read!r}, "
                f"release={released})",
            )
            return 1
        if not warnings:
            self._line("ok", f"ledger: {ledger!r} stored, read and released a probe key")
        return 0
