"""Friendly mistakes: options and ``MIXTRACK_*`` variables that are almost right.

Names other analytics libraries use (``host=``, ``flush_at=``, ``send=False``) and near
misses (``MIXTRACK_APIHOST``) would otherwise be a ``TypeError`` without a hint, or worse, an
environment variable silently ignored while events go to the wrong place.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Collection, Mapping
from typing import Any

from mixtrack.errors import ConfigError

__all__ = ["check_options", "warn_lookalikes"]

log = logging.getLogger("mixtrack")

#: Option names of posthog, segment, mixpanel-python and sentry, and what mixtrack calls them.
ALIASES: Mapping[str, str] = {
    "host": "api_host",
    "url": "api_host",
    "api_url": "api_host",
    "base_url": "api_host",
    "endpoint_url": "api_host",
    "server": "api_host",
    "secret": "api_secret",
    "api_key": "token",
    "project_token": "token",
    "project_api_key": "token",
    "write_key": "token",
    "flush_at": "batch_size",
    "upload_size": "batch_size",
    "upload_interval": "flush_interval",
    "max_queue_size": "max_queue_events",
    "timeout": "request_timeout",
    "max_retries": "max_attempts",
    "retry_limit": "max_attempts",
    "on_error": "on_drop",
    "verify": "verify_tls",
    "verify_cert": "verify_tls",
    "verify_ssl": "verify_tls",
    "send": "disabled",
    "enabled": "disabled",
    "disable": "disabled",
    "strict": "invalid",
    "spool": "spool_dir",
    "threads": "max_in_flight",
    "thread": "max_in_flight",
}
#: Where the meaning is inverted or spelled differently, the whole hint.
_SPELLED: Mapping[str, str] = {
    "send": "disabled=True (mixtrack's spelling of send=False)",
    "enabled": "disabled=True (mixtrack's spelling of enabled=False)",
    "strict": "invalid='raise' (mixtrack's spelling of strict=True)",
}
#: ``MIXTRACK_*`` names other parts of mixtrack read (the web integrations, the test suite).
_OTHER_VARIABLES = frozenset(
    {"FLAGS", "LEDGER", "COOKIE_NAME", "COOKIE_MAX_AGE", "COOKIE_SECURE", "IDENTITY"}
)


def _suggest(name: str, known: Collection[str]) -> str | None:
    lowered = name.lower()
    if lowered in ALIASES and ALIASES[lowered] in known:
        return ALIASES[lowered]
    squashed = lowered.replace("_", "")
    for option in known:
        if option.replace("_", "") == squashed:
            return option
    close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.8)
    return close[0] if close else None


def check_options(options: Mapping[str, Any], known: Collection[str], where: str) -> None:
    """Refuses unknown keyword options with a suggestion, before attrs' bare TypeError.

    >>> check_options({"host": "http://127.0.0.1:8765"}, ["api_host"], "Client()")
    Traceback (most recent call last):
    mixtrack.errors.ConfigError: Client() has no option host=...: did you mean api_host=...?
    """
    for name, value in options.items():
        if name in known:
            continue
        suggestion = _suggest(name, known)
        shown = f"{name}={value!r:.60}"
        if suggestion is None:
            raise ConfigError(
                f"{where} has no option {shown}; the options are the fields of mixtrack.Config: "
                + ", ".join(sorted(known))
            )
        hint = _SPELLED.get(name.lower(), f"{suggestion}={value!r:.60}")
        raise ConfigError(f"{where} has no option {shown}: did you mean {hint}?")


_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_lookalikes(environ: Mapping[str, str], known: Collection[str]) -> None:
    """Logs a WARNING, once per process and name, for a ``MIXTRACK_*`` variable that is not an
    option but looks like one (``MIXTRACK_APIHOST``, ``MIXTRACK_HOST``, ``MIXTRACK_BATCHSIZE``).

    >>> warn_lookalikes({"MIXTRACK_APIHOST": "http://127.0.0.1:8765"}, ["api_host"])
    """
    for variable in environ:
        if not variable.startswith("MIXTRACK_"):
            continue
        rest = variable[len("MIXTRACK_") :]
        if rest.lower() in known or rest in _OTHER_VARIABLES or rest.startswith("TEST_"):
            continue
        suggestion = _suggest(rest, known)
        if suggestion is None:
            continue
        with _warned_lock:
            if variable in _warned:
                continue
            _warned.add(variable)
        log.warning(
            "the environment variable %s is not an option and is ignored; "
            "did you mean MIXTRACK_%s?",
            variable,
            suggestion.upper(),
        )
