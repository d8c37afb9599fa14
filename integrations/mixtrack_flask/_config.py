"""Turn a Flask app's ``MIXTRACK_*`` config into a client, a flag provider and a ledger.

Every function here raises :class:`mixtrack.ConfigError` with the offending key and value,
so a typo shows up when the app starts, not on the first page view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixtrack import Client, ConfigError
from mixtrack.exposure import Ledger
from mixtrack.flags import FlagProvider
from mixtrack.web import OPTIONS, WebSettings, client_options, read_settings
from mixtrack.web import resolve_flags as web_resolve_flags
from mixtrack.web import resolve_ledger as web_resolve_ledger

__all__ = [
    "CONFIG_KEYS",
    "build_client",
    "check_config",
    "read_web_settings",
    "resolve_flags",
    "resolve_ledger",
]

#: Every ``MIXTRACK_*`` key ``init_app`` reads (the shared table, plus Flask's own).
CONFIG_KEYS = (
    *(option.flask for option in OPTIONS.values()),
    "MIXTRACK_CLIENT_OPTIONS",
)


def _where(key: str) -> str:
    return f"MIXTRACK_{key}"


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse what cannot work, at setup: no ``SECRET_KEY``, unknown ``MIXTRACK_*`` keys.

    >>> check_config({"SECRET_KEY": "dev", "MIXTRACK_TOKN": "tok"})
    Traceback (most recent call last):
    ...
    mixtrack.errors.ConfigError: unknown config key(s) 'MIXTRACK_TOKN' ...
    """
    unknown = sorted(k for k in config if k.startswith("MIXTRACK_") and k not in CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(map(repr, unknown))} for mixtrack_flask; "
            f"the keys are {', '.join(CONFIG_KEYS)}"
        )
    if not config.get("SECRET_KEY"):
        raise ConfigError(
            "mixtrack_flask signs the device-id cookie with the app's secret key: set "
            "app.secret_key (SECRET_KEY) before Mixtrack(app) / init_app(app)"
        )


def read_web_settings(config: Mapping[str, Any]) -> WebSettings:
    """The shared web settings from ``MIXTRACK_*`` keys (missing keys keep the defaults)."""
    values = {
        name: config[option.flask] for name, option in OPTIONS.items() if option.flask in config
    }
    return read_settings(values, where=_where)


def build_client(config: Mapping[str, Any]) -> Client:
    """A :class:`mixtrack.Client` from ``MIXTRACK_TOKEN`` / ``MIXTRACK_API_HOST`` (and
    ``MIXTRACK_DISABLED`` / ``MIXTRACK_INVALID`` when set).

    Flask config wins; the ``MIXTRACK_*`` environment variables fill in the rest (so
    ``MIXTRACK_FLUSH_INTERVAL`` and friends work too).

    >>> build_client({"MIXTRACK_TOKEN": "tok", "MIXTRACK_API_HOST": "http://127.0.0.1:8765"})
    <mixtrack.Client api_host='http://127.0.0.1:8765' endpoint='import'>
    """
    values = {name: config.get(option.flask) for name, option in OPTIONS.items()}
    extra = config.get("MIXTRACK_CLIENT_OPTIONS") or {}
    if not isinstance(extra, Mapping):
        raise ConfigError(
            f"MIXTRACK_CLIENT_OPTIONS must be a dict of mixtrack.Config fields, got {extra!r}"
        )
    overrides: dict[str, Any] = {**extra, **client_options(values, where=_where)}
    try:
        return Client.from_env(**overrides)
    except ConfigError as exc:
        if "token" not in overrides and "no token" in str(exc):
            raise ConfigError(
                "mixtrack_flask: no project token: set app.config['MIXTRACK_TOKEN'] (or the "
                "MIXTRACK_TOKEN environment variable), or pass client= to Mixtrack()"
            ) from None
        raise ConfigError(f"mixtrack_flask: {exc}") from None


def resolve_flags(value: Any) -> FlagProvider | None:
    """``MIXTRACK_FLAGS`` as a provider (see :func:`mixtrack.web.resolve_flags`).

    >>> resolve_flags({"checkout_redesign": {"control": 50, "treatment": 50}})
    StaticFlags(['checkout_redesign'])
    """
    return web_resolve_flags(value, where="MIXTRACK_FLAGS")


def resolve_ledger(value: Any) -> Ledger:
    """``MIXTRACK_LEDGER`` as a ledger: ``"memory"`` (default), ``"redis://..."``, or an
    object implementing :class:`~mixtrack.exposure.Ledger`.

    >>> resolve_ledger("memory")
    MemoryLedger(max_keys=100000, ttl=None)
    """
    return web_resolve_ledger(value, where="MIXTRACK_LEDGER")
