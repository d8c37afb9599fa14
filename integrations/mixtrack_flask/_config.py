"""Turn a Flask app's ``MIXTRACK_*`` config into a client, a flag provider and a ledger.

Every function here raises :class:`mixtrack.ConfigError` with the offending key and value,
so a typo shows up when the app starts, not on the first page view.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import attrs

from mixtrack import Client, ConfigError
from mixtrack.exposure import Ledger, MemoryLedger, RedisLedger
from mixtrack.flags import FlagProvider, StaticFlags

__all__ = ["CONFIG_KEYS", "Settings", "build_client", "resolve_flags", "resolve_ledger"]

CONFIG_KEYS = (
    "MIXTRACK_TOKEN",
    "MIXTRACK_API_HOST",
    "MIXTRACK_FLAGS",
    "MIXTRACK_LEDGER",
    "MIXTRACK_COOKIE_NAME",
    "MIXTRACK_COOKIE_MAX_AGE",
    "MIXTRACK_COOKIE_SECURE",
)

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_FLAG_FILES = (".json", ".yaml", ".yml")
_TWO_YEARS = 2 * 365 * 24 * 3600
_COOKIE_NAME = "mixtrack_anon"


@attrs.frozen
class Settings:
    """The cookie options of one app (the rest of the config becomes objects)."""

    cookie_name: str = _COOKIE_NAME
    cookie_max_age: int = _TWO_YEARS
    cookie_secure: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Read ``MIXTRACK_COOKIE_*``; missing keys keep their defaults."""
        name = config.get("MIXTRACK_COOKIE_NAME", _COOKIE_NAME)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"MIXTRACK_COOKIE_NAME must be a non-empty str, got {name!r}")
        max_age = config.get("MIXTRACK_COOKIE_MAX_AGE", _TWO_YEARS)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ConfigError(
                f"MIXTRACK_COOKIE_MAX_AGE must be a positive number of seconds, got {max_age!r}"
            )
        secure = config.get("MIXTRACK_COOKIE_SECURE", False)
        if not isinstance(secure, bool):
            raise ConfigError(f"MIXTRACK_COOKIE_SECURE must be True or False, got {secure!r}")
        return cls(name, max_age, secure)


def build_client(config: Mapping[str, Any]) -> Client:
    """A :class:`mixtrack.Client` from ``MIXTRACK_TOKEN`` / ``MIXTRACK_API_HOST``.

    Flask config wins; the ``MIXTRACK_*`` environment variables fill in the rest (so
    ``MIXTRACK_FLUSH_INTERVAL`` and friends work too).

    >>> build_client({"MIXTRACK_TOKEN": "tok", "MIXTRACK_API_HOST": "http://127.0.0.1:8765"})
    <mixtrack.Client api_host='http://127.0.0.1:8765' endpoint='import'>
    """
    overrides: dict[str, Any] = {}
    for key, field in (("MIXTRACK_TOKEN", "token"), ("MIXTRACK_API_HOST", "api_host")):
        if config.get(key) is not None:
            overrides[field] = config[key]
    try:
        return Client.from_env(**overrides)
    except ConfigError as exc:
        if "token" not in overrides and "no token" in str(exc):
            raise ConfigError(
                "mixtrack_flask: no project token: set app.config['MIXTRACK_TOKEN'] (or the "
                "MIXTRACK_TOKEN environment variable), or pass client= to Mixtrack()"
            ) from None
        raise ConfigError(f"mixtrack_flask: {exc}") from None


def _import(path: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(
            f"MIXTRACK_FLAGS: {path!r} is not a dotted path like 'myapp.flags:provider'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"MIXTRACK_FLAGS: cannot import {module_name!r} ({exc})") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"MIXTRACK_FLAGS: module {module_name!r} has no {attr!r}") from None


def resolve_flags(value: Any) -> FlagProvider | None:
    """``MIXTRACK_FLAGS`` as a provider: an object with ``evaluate``, a mapping (for
    :class:`~mixtrack.flags.StaticFlags`), a ``.json``/``.yaml`` file, or a dotted path to
    any of those (or to a zero-argument factory returning a provider). None stays None.

    >>> resolve_flags({"checkout_redesign": {"control": 50, "treatment": 50}})
    StaticFlags(['checkout_redesign'])
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value.endswith(_FLAG_FILES):
            return StaticFlags(value)
        value = _import(value)
        if isinstance(value, type) or (callable(value) and not hasattr(value, "evaluate")):
            value = value()
    if isinstance(value, Mapping):
        return StaticFlags(value)
    if callable(getattr(value, "evaluate", None)):
        provider: FlagProvider = value
        return provider
    raise ConfigError(
        f"MIXTRACK_FLAGS must be a flag provider (an object with evaluate()), a dict of "
        f"experiments, a .json/.yaml file or a dotted path to one, got {type(value).__name__}"
    )


def resolve_ledger(value: Any) -> Ledger:
    """``MIXTRACK_LEDGER`` as a ledger: ``"memory"`` (default), ``"redis://..."``, or an
    object implementing :class:`~mixtrack.exposure.Ledger`.

    >>> resolve_ledger("memory")
    MemoryLedger(max_keys=100000, ttl=None)
    """
    if value is None or value == "memory":
        return MemoryLedger()
    if isinstance(value, str):
        if value.startswith(_REDIS_SCHEMES):
            try:
                return RedisLedger(value)
            except ImportError as exc:
                raise ConfigError(f"MIXTRACK_LEDGER={value!r}: {exc}") from None
            except ValueError as exc:
                raise ConfigError(f"MIXTRACK_LEDGER={value!r} is not a valid URL: {exc}") from None
        raise ConfigError(f"MIXTRACK_LEDGER must be 'memory' or a redis:// URL, got {value!r}")
    if isinstance(value, Ledger):
        return value
    raise ConfigError(
        f"MIXTRACK_LEDGER must be 'memory', a redis:// URL or a Ledger object "
        f"(add, get, release), got {type(value).__name__}"
    )
