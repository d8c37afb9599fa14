"""Read and check ``settings.MIXTRACK``; every mistake becomes a clear ``ImproperlyConfigured``.

>>> MIXTRACK = {                                           # doctest: +SKIP
...     "TOKEN": "PROJECT_TOKEN",
...     "API_HOST": "http://127.0.0.1:8765",
...     "FLAGS": "myproject.flags.provider",   # or a FlagProvider, or a dict for StaticFlags
...     "LEDGER": "cache",                     # or "memory", "redis://...", a Ledger
... }
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from django.core.exceptions import ImproperlyConfigured

from mixtrack.errors import ConfigError
from mixtrack.web import OPTIONS, WebSettings, client_options, read_settings

__all__ = ["DEFAULTS", "Options", "SettingsError", "import_object", "read_options"]


class SettingsError(ConfigError, ImproperlyConfigured):
    """A wrong ``settings.MIXTRACK``: both a :class:`mixtrack.ConfigError`, as in every
    framework, and Django's ``ImproperlyConfigured``."""


# The shared settings come from mixtrack.web's one table; the rest are Django's own.
DEFAULTS: Mapping[str, Any] = {
    **{name: option.default for name, option in OPTIONS.items()},
    "LEDGER": "cache",  # "cache" | "memory" | "redis://..." | a Ledger object
    "CLIENT": None,  # an existing mixtrack.Client (object or dotted path) instead of the above
    "CLIENT_OPTIONS": {},  # more mixtrack.Config fields: {"flush_interval": 0.5, ...}
    "LEDGER_CACHE": "default",  # the Django cache alias the "cache" ledger uses
    "LEDGER_TTL": 90 * 24 * 3600,  # seconds an exposure is remembered (None: forever)
    "ON_LEDGER_ERROR": "memory",  # "memory" | "expose" | "skip" while the ledger is down
    "USER_ID": None,  # callable(user) -> str; default str(user.pk)
    "USER_PROPERTIES": None,  # callable(user) -> dict sent with people_set at login
    "QA_USERS": None,  # callable(user) -> bool; their events carry $is_qa_tester
}

_LEDGER_FORMS = "'cache', 'memory', a redis:// URL or a Ledger object"


def _where(key: str) -> str:
    return f"MIXTRACK[{key!r}]"


def import_object(key: str, path: str) -> Any:
    """Import ``"package.module.name"``; the error names the setting and the fix."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise SettingsError(
            f"{_where(key)} = {path!r} is not a dotted path: write 'package.module.name'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SettingsError(
            f"{_where(key)} = {path!r}: cannot import {module_name!r} ({exc}); "
            "check the dotted path and that the module is importable"
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise SettingsError(
            f"{_where(key)} = {path!r}: module {module_name!r} has no {attribute!r}"
        ) from None


def _callable(key: str, value: Any) -> Callable[..., Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = import_object(key, value)
    if not callable(value):
        raise SettingsError(
            f"{_where(key)} must be a callable taking the user (or its dotted path), got {value!r}"
        )
    return value  # type: ignore[no-any-return]


def _default_user_id(user: Any) -> str:
    return str(user.pk)


@attrs.frozen
class Options:
    """``settings.MIXTRACK`` after checking, with the defaults filled in."""

    raw: Mapping[str, Any]
    token: str | None
    api_host: str | None
    #: keyword arguments for the Client: TOKEN, API_HOST, DISABLED, INVALID when set
    client_kwargs: Mapping[str, Any]
    client: Any
    client_options: Mapping[str, Any]
    flags: Any
    ledger: Any
    ledger_cache: str
    ledger_ttl: float | None
    on_ledger_error: str
    web: WebSettings
    user_id: Callable[[Any], str]
    user_properties: Callable[[Any], Mapping[str, Any]] | None
    qa_users: Callable[[Any], bool] | None


def read_options(raw: Any) -> Options:
    """Check the ``MIXTRACK`` setting (a dict; None means "all defaults")."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SettingsError(
            f"settings.MIXTRACK must be a dict such as {{'TOKEN': '...', 'API_HOST': '...'}}, "
            f"got {type(raw).__name__}"
        )
    unknown = sorted(str(key) for key in raw if key not in DEFAULTS)
    if unknown:
        raise SettingsError(
            f"settings.MIXTRACK has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(DEFAULTS)}"
        )
    value = {**DEFAULTS, **raw}

    try:
        client_kwargs = client_options(value, where=_where)
        web = read_settings(value, where=_where)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    if not isinstance(value["CLIENT_OPTIONS"], Mapping):
        raise SettingsError(
            f"{_where('CLIENT_OPTIONS')} must be a dict of mixtrack.Config fields, "
            f"got {value['CLIENT_OPTIONS']!r}"
        )
    client = value["CLIENT"]
    if isinstance(client, str):
        client = import_object("CLIENT", client)
    if client is not None and not callable(getattr(client, "track", None)):
        raise SettingsError(
            f"{_where('CLIENT')} must be a mixtrack.Client (or its dotted path), got {client!r}"
        )

    ledger = value["LEDGER"]
    if isinstance(ledger, str):
        if ledger not in ("cache", "memory") and not ledger.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise SettingsError(f"{_where('LEDGER')} must be {_LEDGER_FORMS}, got {ledger!r}")
    elif not all(callable(getattr(ledger, name, None)) for name in ("add", "get", "release")):
        raise SettingsError(f"{_where('LEDGER')} must be {_LEDGER_FORMS}, got {ledger!r}")
    if not isinstance(value["LEDGER_CACHE"], str):
        raise SettingsError(
            f"{_where('LEDGER_CACHE')} must be a cache alias from settings.CACHES, "
            f"got {value['LEDGER_CACHE']!r}"
        )
    ttl = value["LEDGER_TTL"]
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0):
        raise SettingsError(
            f"{_where('LEDGER_TTL')} must be a positive number of seconds or None, got {ttl!r}"
        )
    if value["ON_LEDGER_ERROR"] not in ("memory", "expose", "skip"):
        raise SettingsError(
            f"{_where('ON_LEDGER_ERROR')} must be 'memory', 'expose' or 'skip', "
            f"got {value['ON_LEDGER_ERROR']!r}"
        )
    return Options(
        raw=dict(raw),
        token=value["TOKEN"],
        api_host=value["API_HOST"],
        client_kwargs=client_kwargs,
        client=client,
        client_options=dict(value["CLIENT_OPTIONS"]),
        flags=value["FLAGS"],
        ledger=ledger,
        ledger_cache=value["LEDGER_CACHE"],
        ledger_ttl=ttl,
        on_ledger_error=value["ON_LEDGER_ERROR"],
        web=web,
        user_id=_callable("USER_ID", value["USER_ID"]) or _default_user_id,
        user_properties=_callable("USER_PROPERTIES", value["USER_PROPERTIES"]),
        qa_users=_callable("QA_USERS", value["QA_USERS"]),
    )
