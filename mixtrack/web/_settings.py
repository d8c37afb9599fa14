"""The web settings every framework shares: one table of names and defaults, one check.

Each adapter spells a setting its framework's way (Django ``MIXTRACK["COOKIE_NAME"]``,
Flask ``MIXTRACK_COOKIE_NAME``, FastAPI ``cookie_name=``) and hands the values to
:func:`read_settings`, which checks them once and names the setting in the adapter's own
spelling when one is wrong.

>>> settings = read_settings({"IDENTITY": "original"}, where=lambda key: f"MIXTRACK_{key}")
>>> settings.identity, settings.cookie_name, settings.cookie_max_age
('original', 'mixtrack_anon', 31536000)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from mixtrack.errors import ConfigError

__all__ = [
    "CONTEXT_GROUPS",
    "IDENTITY_MODES",
    "OPTIONS",
    "CrawlerEvents",
    "IdentityMode",
    "Option",
    "WebSettings",
    "client_options",
    "read_settings",
]

IdentityMode = Literal["simplified", "original"]
#: What happens to the request events of a crawler: not sent (counted), or sent with
#: ``$ignore: true`` so that Mixpanel drops them at ingestion.
CrawlerEvents = Literal["drop", "ignore"]
IDENTITY_MODES: tuple[IdentityMode, ...] = ("simplified", "original")

#: The groups of visitor context properties, each switched on or off as a whole.
CONTEXT_GROUPS = ("ip", "user_agent", "url", "referrer", "utm")

_YEAR = 365 * 24 * 3600


@attrs.frozen
class Option:
    """One row of the table: the setting's name, its default and what it does.

    ``name`` is Django's key; Flask's is ``"MIXTRACK_" + name``; FastAPI's keyword is
    ``name.lower()``.

    >>> OPTIONS["COOKIE_NAME"].default
    'mixtrack_anon'
    """

    name: str
    default: Any
    doc: str

    @property
    def django(self) -> str:
        """``MIXTRACK['<name>']``, as Django's error messages spell it."""
        return f"MIXTRACK[{self.name!r}]"

    @property
    def flask(self) -> str:
        """``MIXTRACK_<name>``"""
        return f"MIXTRACK_{self.name}"

    @property
    def fastapi(self) -> str:
        """``<name>=`` in lower case"""
        return f"{self.name.lower()}="


def _table(*rows: Option) -> Mapping[str, Option]:
    return {row.name: row for row in rows}


#: The settings shared by the three adapters, in the order the docs list them. Framework-only
#: settings (Django's ``LEDGER_CACHE``, Flask's identity loader...) live in the adapters.
OPTIONS: Mapping[str, Option] = _table(
    Option("TOKEN", None, "project token; falls back to MIXTRACK_TOKEN"),
    Option("API_HOST", None, "where events go; MIXTRACK_API_HOST, then Mixpanel"),
    Option("FLAGS", None, "flag provider, dotted path, dict for StaticFlags, .json/.yaml"),
    Option("LEDGER", "memory", "'memory', 'redis://...' or a Ledger (Django: 'cache')"),
    Option("IDENTITY", "simplified", "Mixpanel ID merge system: 'simplified' or 'original'"),
    Option("COOKIE_NAME", "mixtrack_anon", "cookie holding the signed device id"),
    Option("COOKIE_MAX_AGE", _YEAR, "device-id cookie lifetime in seconds"),
    Option("COOKIE_SECURE", None, "None: Secure when the request is https"),
    Option("COOKIE_SAMESITE", "Lax", "'Lax', 'Strict', 'None' or None"),
    Option("CONTEXT", CONTEXT_GROUPS, "visitor context groups added to request events"),
    Option("TRUSTED_PROXIES", (), "proxy addresses/networks whose X-Forwarded-For is read"),
    Option("DISABLED", None, "passed to the Client when set: track nothing"),
    Option("INVALID", None, "passed to the Client when set: 'drop' or 'raise'"),
    Option("CRAWLER_PATTERNS", (), "more User-Agent regexes that mark a request as a crawler"),
    Option("INTERNAL_NETWORKS", (), "addresses/networks whose requests are not a person"),
    Option("CRAWLER_EVENTS", "drop", "a crawler's request events: 'drop' or 'ignore' ($ignore)"),
    Option("RESPECT_DNT", False, "treat DNT: 1 as an opt-out, like Sec-GPC: 1"),
    Option("MIXPANEL_BROWSER", False, "write mixpanel-browser's cookie on a first visit"),
    Option("MIXPANEL_COOKIE_DOMAIN", None, "mixpanel.init's cookie_domain, when you set it"),
    Option("MIXPANEL_CROSS_SUBDOMAIN", True, "mixpanel.init's cross_subdomain_cookie"),
)


@attrs.frozen
class WebSettings:
    """The checked request-handling settings of one app (see :data:`OPTIONS`).

    >>> WebSettings().identity
    'simplified'
    """

    identity: IdentityMode = "simplified"
    cookie_name: str = "mixtrack_anon"
    cookie_max_age: int = _YEAR
    cookie_secure: bool | None = None
    cookie_samesite: str | None = "Lax"
    context: frozenset[str] = frozenset(CONTEXT_GROUPS)
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    crawler_patterns: tuple[re.Pattern[str], ...] = ()
    internal_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    crawler_events: CrawlerEvents = "drop"
    respect_dnt: bool = False
    mixpanel_browser: bool = False
    mixpanel_cookie_domain: str | None = None
    mixpanel_cross_subdomain: bool = True

    @property
    def utm_cookie_name(self) -> str:
        """The session cookie that keeps the landing page's ``utm_*`` for the visit."""
        return f"{self.cookie_name}_utm"


def _proxies(value: Any, where: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise ConfigError(f"{where} must be a list of IP addresses or networks, got {value!r}")
    networks = []
    for item in value:
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise ConfigError(
                f"{where}: {item!r} is not an IP address or network such as '10.0.0.0/8'"
            ) from None
    return tuple(networks)


def _context(value: Any, where: str) -> frozenset[str]:
    if value is None or value is False:
        return frozenset()
    if value is True:
        return frozenset(CONTEXT_GROUPS)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigError(
            f"{where} must be a list of {', '.join(CONTEXT_GROUPS)} (or [] for none), got {value!r}"
        )
    groups = frozenset(str(item) for item in value)
    unknown = sorted(groups - set(CONTEXT_GROUPS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown context group(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(CONTEXT_GROUPS)}"
        )
    return groups


def read_settings(values: Mapping[str, Any], *, where: Callable[[str], str]) -> WebSettings:
    """Check the web settings in ``values`` (keys as in :data:`OPTIONS`; missing: default).

    ``where(key)`` spells the setting for error messages, e.g. ``MIXTRACK["IDENTITY"]``.
    Raises :class:`mixtrack.ConfigError` naming the setting, the value and the choices.

    >>> read_settings({"IDENTITY": "merged"}, where=str)
    Traceback (most recent call last):
    ...
    mixtrack.errors.ConfigError: IDENTITY must be 'simplified' or 'original', got 'merged'
    """

    def get(key: str) -> Any:
        return values.get(key, OPTIONS[key].default)

    identity = get("IDENTITY")
    if identity not in IDENTITY_MODES:
        raise ConfigError(
            f"{where('IDENTITY')} must be 'simplified' or 'original', got {identity!r}"
        )
    name = get("COOKIE_NAME")
    if not isinstance(name, str) or not name or any(c in name for c in " ;,=\t\r\n\"'"):
        raise ConfigError(
            f"{where('COOKIE_NAME')} must be a non-empty cookie name (no spaces, ';', ',', "
            f"'=' or quotes), got {name!r}"
        )
    max_age = get("COOKIE_MAX_AGE")
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
        raise ConfigError(
            f"{where('COOKIE_MAX_AGE')} must be a positive int (seconds), got {max_age!r}"
        )
    secure = get("COOKIE_SECURE")
    if secure is not None and not isinstance(secure, bool):
        raise ConfigError(
            f"{where('COOKIE_SECURE')} must be True, False or None (Secure when the request "
            f"is https), got {secure!r}"
        )
    samesite = get("COOKIE_SAMESITE")
    if samesite not in ("Lax", "Strict", "None", None):
        raise ConfigError(
            f"{where('COOKIE_SAMESITE')} must be 'Lax', 'Strict', 'None' or None, got {samesite!r}"
        )
    return WebSettings(
        **_traffic_settings(get, where),
        identity=identity,
        cookie_name=name,
        cookie_max_age=max_age,
        cookie_secure=secure,
        cookie_samesite=samesite,
        context=_context(get("CONTEXT"), where("CONTEXT")),
        trusted_proxies=_proxies(get("TRUSTED_PROXIES"), where("TRUSTED_PROXIES")),
    )


def _flag(get: Callable[[str], Any], where: Callable[[str], str], key: str) -> bool:
    value = get(key)
    if not isinstance(value, bool):
        raise ConfigError(f"{where(key)} must be True or False, got {value!r}")
    return value


def _patterns(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise ConfigError(f"{where} must be a list of regular expressions, got {value!r}")
    compiled = []
    for item in value:
        try:
            compiled.append(re.compile(str(item), re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"{where}: {item!r} is not a regular expression ({exc})") from None
    return tuple(compiled)


def _traffic_settings(get: Callable[[str], Any], where: Callable[[str], str]) -> dict[str, Any]:
    """The settings that say which requests are not a person, and mixpanel-browser's cookie."""
    events = get("CRAWLER_EVENTS")
    if events not in ("drop", "ignore"):
        raise ConfigError(f"{where('CRAWLER_EVENTS')} must be 'drop' or 'ignore', got {events!r}")
    domain = get("MIXPANEL_COOKIE_DOMAIN")
    if domain is not None and (not isinstance(domain, str) or not domain or ";" in domain):
        raise ConfigError(
            f"{where('MIXPANEL_COOKIE_DOMAIN')} must be a domain such as '.shop.example' "
            f"(what mixpanel.init's cookie_domain says) or None, got {domain!r}"
        )
    return {
        "crawler_patterns": _patterns(get("CRAWLER_PATTERNS"), where("CRAWLER_PATTERNS")),
        "internal_networks": _proxies(get("INTERNAL_NETWORKS"), where("INTERNAL_NETWORKS")),
        "crawler_events": events,
        "respect_dnt": _flag(get, where, "RESPECT_DNT"),
        "mixpanel_browser": _flag(get, where, "MIXPANEL_BROWSER"),
        "mixpanel_cookie_domain": domain,
        "mixpanel_cross_subdomain": _flag(get, where, "MIXPANEL_CROSS_SUBDOMAIN"),
    }


def client_options(values: Mapping[str, Any], *, where: Callable[[str], str]) -> dict[str, Any]:
    """Keyword arguments for ``Client``/``AsyncClient`` from ``TOKEN``, ``API_HOST``,
    ``DISABLED`` and ``INVALID``: each is passed only when set, so the client's own
    defaults (and ``MIXTRACK_*`` environment variables) apply otherwise.

    >>> client_options({"TOKEN": "tok", "DISABLED": True}, where=str)
    {'token': 'tok', 'disabled': True}
    """
    options: dict[str, Any] = {}
    for key in ("TOKEN", "API_HOST"):
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where(key)} must be a non-empty str or None, got {value!r}")
        options[key.lower()] = value
    disabled = values.get("DISABLED")
    if disabled is not None:
        if not isinstance(disabled, bool):
            raise ConfigError(f"{where('DISABLED')} must be True or False, got {disabled!r}")
        options["disabled"] = disabled
    invalid = values.get("INVALID")
    if invalid is not None:
        if invalid not in ("drop", "raise"):
            raise ConfigError(f"{where('INVALID')} must be 'drop' or 'raise', got {invalid!r}")
        options["invalid"] = invalid
    return options
