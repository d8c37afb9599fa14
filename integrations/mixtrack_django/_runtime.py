"""The configured plugin: one client, one ``Experiments``, and the options they came from."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

import mixtrack
from mixtrack.exposure import Ledger, MemoryLedger, RedisLedger
from mixtrack.flags import StaticFlags
from mixtrack.web import WebApp
from mixtrack_django._settings import Options, SettingsError, import_object, read_options
from mixtrack_django.ledger import CacheLedger

__all__ = ["Mixtrack", "get_mixtrack", "reload"]


def _flags(value: Any) -> Any:
    if value is None:
        return StaticFlags({})
    if isinstance(value, Mapping):
        try:
            return StaticFlags(value)
        except mixtrack.ConfigError as exc:
            raise SettingsError(f"MIXTRACK['FLAGS']: {exc}") from exc
    if isinstance(value, Path) or (
        isinstance(value, str) and value.endswith((".json", ".yaml", ".yml"))
    ):
        try:
            return StaticFlags(str(value))
        except (mixtrack.ConfigError, OSError) as exc:
            raise SettingsError(f"MIXTRACK['FLAGS'] = {str(value)!r}: {exc}") from exc
    if isinstance(value, str):
        value = import_object("FLAGS", value)
        # A class or factory function: call it once to get the provider.
        if not callable(getattr(value, "evaluate", None)) and callable(value):
            value = value()
    if not callable(getattr(value, "evaluate", None)):
        raise SettingsError(
            "MIXTRACK['FLAGS'] must be a FlagProvider (an object with "
            "evaluate(distinct_id, experiment, attributes)), its dotted path, a dict for "
            f"StaticFlags or a .json/.yaml file, got {value!r}"
        )
    return value


def _ledger(options: Options) -> Ledger:
    spec = options.ledger
    if spec == "cache":
        if options.ledger_cache not in settings.CACHES:
            raise SettingsError(
                f"MIXTRACK['LEDGER_CACHE'] = {options.ledger_cache!r} is not in "
                f"settings.CACHES (aliases: {', '.join(settings.CACHES) or 'none'}); "
                "name one of them or set MIXTRACK['LEDGER'] to 'memory' or a redis:// URL"
            )
        return CacheLedger(options.ledger_cache, ttl=options.ledger_ttl)
    if spec == "memory":
        return MemoryLedger(ttl=options.ledger_ttl)
    if isinstance(spec, str):
        try:
            return RedisLedger(spec, ttl=options.ledger_ttl)
        except ImportError as exc:
            raise SettingsError(
                f"MIXTRACK['LEDGER'] = {spec!r} needs the redis package: "
                "pip install 'mixtrack[redis]'"
            ) from exc
    return spec  # type: ignore[no-any-return]


def _client(options: Options) -> tuple[Any, bool]:
    if options.client is not None:
        return options.client, False
    overrides: dict[str, Any] = {**options.client_options, **options.client_kwargs}
    try:
        return mixtrack.Client(config=mixtrack.Config.from_env(**overrides)), True
    except mixtrack.ConfigError as exc:
        raise SettingsError(
            f"settings.MIXTRACK: {exc}. Set MIXTRACK['TOKEN'] and MIXTRACK['API_HOST'] "
            "(or the MIXTRACK_TOKEN / MIXTRACK_API_HOST environment variables)"
        ) from exc
    except TypeError as exc:
        raise SettingsError(
            f"MIXTRACK['CLIENT_OPTIONS']: {exc}; use the field names of mixtrack.Config"
        ) from exc


class Mixtrack:
    """The client, experiments and options built from ``settings.MIXTRACK``.

    Get the one in use with :func:`get_mixtrack`; build your own for scripts and tests.

    >>> from mixtrack_django import get_mixtrack
    >>> get_mixtrack().client.track("user-42", "Exported report")  # doctest: +SKIP
    """

    def __init__(self, raw: Any) -> None:
        self.options = read_options(raw)
        self.flags = _flags(self.options.flags)
        self.ledger = _ledger(self.options)
        self.client, self._owns_client = _client(self.options)
        #: the framework-free part: settings, signer, experiments, endpoints, helpers
        self.web = WebApp(
            self.client,
            flags=self.flags,
            ledger=self.ledger,
            settings=self.options.web,
            secret=settings.SECRET_KEY,
            secret_fallbacks=tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())),
            on_ledger_error=self.options.on_ledger_error,  # type: ignore[arg-type]
        )
        self.experiments = self.web.experiments

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued and stop the client, if this plugin created it."""
        if self._owns_client:
            self.client.shutdown(timeout=timeout)

    def __repr__(self) -> str:
        return f"<Mixtrack {self.client!r} {self.experiments!r}>"


_current: Mixtrack | None = None
_lock = threading.Lock()


def get_mixtrack() -> Mixtrack:
    """The plugin built from the current settings (built on first use if the app has not).

    >>> get_mixtrack().experiments.variant("user-42", "checkout_redesign").name  # doctest: +SKIP
    'treatment'
    """
    global _current
    current = _current
    if current is None:
        with _lock:
            if _current is None:
                _current = Mixtrack(getattr(settings, "MIXTRACK", None))
            current = _current
    return current


def reload() -> Mixtrack:
    """Rebuild from the settings now in force (``override_settings`` does this for you)."""
    global _current
    with _lock:
        old, _current = _current, Mixtrack(getattr(settings, "MIXTRACK", None))
        current = _current
    if old is not None:
        old.close()
    return current
