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

__all__ = ["DEFAULTS", "Options", "import_object", "read_options"]

DEFAULTS: Mapping[str, Any] = {
    "TOKEN": None,  # falls back to MIXTRACK_TOKEN
    "API_HOST": None,  # falls back to MIXTRACK_API_HOST, then https://api.mixpanel.com
    "CLIENT": None,  # an existing mixtrack.Client (object or dotted path) instead of the above
    "CLIENT_OPTIONS": {},  # more mixtrack.Config fields: {"flush_interval": 0.5, ...}
    "FLAGS": None,  # FlagProvider, dotted path, dict for StaticFlags, or a .json/.yaml path
    "LEDGER": "cache",  # "cache" | "memory" | "redis://..." | a Ledger object
    "LEDGER_CACHE": "default",  # the Django cache alias the "cache" ledger uses
    "LEDGER_TTL": 90 * 24 * 3600,  # seconds an exposure is remembered (None: forever)
    "ON_LEDGER_ERROR": "memory",  # "memory" | "expose" | "skip" while the ledger is down
    "COOKIE_NAME": "mixtrack_anon",
    "COOKIE_MAX_AGE": 365 * 24 * 3600,
    "COOKIE_SECURE": None,  # None: secure when the request is
    "COOKIE_SAMESITE": "Lax",
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
        raise ImproperlyConfigured(
            f"{_where(key)} = {path!r} is not a dotted path: write 'package.module.name'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"{_where(key)} = {path!r}: cannot import {module_name!r} ({exc}); "
            "check the dotted path and that the module is importable"
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImproperlyConfigured(
            f"{_where(key)} = {path!r}: module {module_name!r} has no {attribute!r}"
        ) from None


def _callable(key: str, value: Any) -> Callable[..., Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = import_object(key, value)
    if not callable(value):
        raise ImproperlyConfigured(
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
    client: Any
    client_options: Mapping[str, Any]
    flags: Any
    ledger: Any
    ledger_cache: str
    ledger_ttl: float | None
    on_ledger_error: str
    cookie_name: str
    cookie_max_age: int
    cookie_secure: bool | None
    cookie_samesite: str | None
    user_id: Callable[[Any], str]
    user_properties: Callable[[Any], Mapping[str, Any]] | None
    qa_users: Callable[[Any], bool] | None


def read_options(raw: Any) -> Options:
    """Check the ``MIXTRACK`` setting (a dict; None means "all defaults")."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            f"settings.MIXTRACK must be a dict such as {{'TOKEN': '...', 'API_HOST': '...'}}, "
            f"got {type(raw).__name__}"
        )
    unknown = sorted(str(key) for key in raw if key not in DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(
            f"settings.MIXTRACK has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(DEFAULTS)}"
        )
    value = {**DEFAULTS, **raw}

    for key in ("TOKEN", "API_HOST"):
        if value[key] is not None and (not isinstance(value[key], str) or not value[key]):
            raise ImproperlyConfigured(
                f"{_where(key)} must be a non-empty str or None, got {value[key]!r}"
            )
    if not isinstance(value["CLIENT_OPTIONS"], Mapping):
        raise ImproperlyConfigured(
            f"{_where('CLIENT_OPTIONS')} must be a dict of mixtrack.Config fields, "
            f"got {value['CLIENT_OPTIONS']!r}"
        )
    client = value["CLIENT"]
    if isinstance(client, str):
        client = import_object("CLIENT", client)
    if client is not None and not callable(getattr(client, "track", None)):
        raise ImproperlyConfigured(
            f"{_where('CLIENT')} must be a mixtrack.Client (or its dotted path), got {client!r}"
        )

    ledger = value["LEDGER"]
    if isinstance(ledger, str):
        if ledger not in ("cache", "memory") and not ledger.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ImproperlyConfigured(
                f"{_where('LEDGER')} must be {_LEDGER_FORMS}, got {ledger!r}"
            )
    elif not all(callable(getattr(ledger, name, None)) for name in ("add", "get", "release")):
        raise ImproperlyConfigured(f"{_where('LEDGER')} must be {_LEDGER_FORMS}, got {ledger!r}")
    if not isinstance(value["LEDGER_CACHE"], str):
        raise ImproperlyConfigured(
            f"{_where('LEDGER_CACHE')} must be a cache alias from settings.CACHES, "
            f"got {value['LEDGER_CACHE']!r}"
        )
    ttl = value["LEDGER_TTL"]
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0):
        raise ImproperlyConfigured(
            f"{_where('LEDGER_TTL')} must be a positive number of seconds or None, got {ttl!r}"
        )
    if value["ON_LEDGER_ERROR"] not in ("memory", "expose", "skip"):
        raise ImproperlyConfigured(
            f"{_where('ON_LEDGER_ERROR')} must be 'memory', 'expose' or 'skip', "
            f"got {value['ON_LEDGER_ERROR']!r}"
        )
    if not isinstance(value["COOKIE_NAME"], str) or not value["COOKIE_NAME"]:
        raise ImproperlyConfigured(
            f"{_where('COOKIE_NAME')} must be a non-empty str, got {value['COOKIE_NAME']!r}"
        )
    max_age = value["COOKIE_MAX_AGE"]
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
        raise ImproperlyConfigured(
            f"{_where('COOKIE_MAX_AGE')} must be a positive int (seconds), got {max_age!r}"
        )
    if value["COOKIE_SAMESITE"] not in ("Lax", "Strict", "None", None):
        raise ImproperlyConfigured(
            f"{_where('COOKIE_SAMESITE')} must be 'Lax', 'Strict', 'None' or None, "
            f"got {value['COOKIE_SAMESITE']!r}"
        )

    return Options(
        raw=dict(raw),
        token=value["TOKEN"],
        api_host=value["API_HOST"],
        client=client,
        client_options=dict(value["CLIENT_OPTIONS"]),
        flags=value["FLAGS"],
        ledger=ledger,
        ledger_cache=value["LEDGER_CACHE"],
        ledger_ttl=ttl,
        on_ledger_error=value["ON_LEDGER_ERROR"],
        cookie_name=value["COOKIE_NAME"],
        cookie_max_age=max_age,
        cookie_secure=value["COOKIE_SECURE"],
        cookie_samesite=value["COOKIE_SAMESITE"],
        user_id=_callable("USER_ID", value["USER_ID"]) or _default_user_id,
        user_properties=_callable("USER_PROPERTIES", value["USER_PROPERTIES"]),
        qa_users=_callable("QA_USERS", value["QA_USERS"]),
    )
