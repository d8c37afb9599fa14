"""``WebApp``: what one web app's integration holds, built once at setup, shared by requests.

A client, the experiments, the checked settings, the cookie signer, and two small tables
other features extend without touching the adapters: ``endpoints`` (requests the app
answers itself, under ``/_mixtrack/``) and ``helpers`` (template functions every adapter
installs in its templates).

>>> from mixtrack.testing import capture
>>> app = WebApp(capture().client, flags={"pricing_page_layout": {"grid": 50, "list": 50}},
...              secret="app-secret")
>>> app.experiments is not None, app.settings.identity
(True, 'simplified')
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mixtrack.errors import ConfigError
from mixtrack.exposure import (
    Experiments,
    Ledger,
    LedgerFallback,
    MemoryLedger,
    RedisLedger,
    Tracker,
)
from mixtrack.flags import FlagProvider, StaticFlags
from mixtrack.web._cookie import CookieSigner
from mixtrack.web._settings import WebSettings
from mixtrack.web._traffic import TrafficCounter, TrafficStats

if TYPE_CHECKING:
    from mixtrack.web._tracker import RequestTracker

__all__ = [
    "MAX_ENDPOINT_BODY",
    "Endpoint",
    "EndpointResponse",
    "Endpoints",
    "WebApp",
    "resolve_flags",
    "resolve_ledger",
]

logger = logging.getLogger("mixtrack.web")

ENDPOINT_PREFIX = "/_mixtrack/"
#: The most of a request body an adapter reads for an endpoint: one byte more than this
#: tells the handler the body is too large (a 413) without the rest ever being read.
MAX_ENDPOINT_BODY = 16 * 1024
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_FLAG_FILES = (".json", ".yaml", ".yml")


def _import(where: str, path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ConfigError(f"{where} = {path!r} is not a dotted path: write 'package.module.name'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{where} = {path!r}: cannot import {module_name!r} ({exc}); check the dotted path"
        ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ConfigError(f"{where} = {path!r}: {module_name!r} has no {attribute!r}") from None


def resolve_flags(value: Any, *, where: str = "FLAGS") -> FlagProvider | None:
    """A flag provider from what the ``FLAGS`` setting accepts; None stays None.

    An object with ``evaluate``, a mapping (for :class:`~mixtrack.flags.StaticFlags`), a
    ``.json``/``.yaml`` file, or a dotted path to any of those or to a factory.

    >>> resolve_flags({"checkout_redesign": {"control": 50, "treatment": 50}})
    StaticFlags(['checkout_redesign'])
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value.endswith(_FLAG_FILES):
            try:
                return StaticFlags(value)
            except (ConfigError, OSError) as exc:
                raise ConfigError(f"{where} = {value!r}: {exc}") from None
        value = _import(where, value)
        if isinstance(value, type) or (callable(value) and not hasattr(value, "evaluate")):
            value = value()
    if isinstance(value, Mapping):
        try:
            return StaticFlags(value)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if callable(getattr(value, "evaluate", None)):
        provider: FlagProvider = value
        return provider
    raise ConfigError(
        f"{where} must be a flag provider (an object with evaluate(distinct_id, experiment, "
        f"attributes)), a dict of experiments, a .json/.yaml file or a dotted path to one, "
        f"got {value!r}"
    )


def resolve_ledger(value: Any, *, where: str = "LEDGER", ttl: float | None = None) -> Ledger:
    """A ledger from ``"memory"``, ``"redis://..."`` or a :class:`~mixtrack.exposure.Ledger`.

    >>> resolve_ledger("memory")
    MemoryLedger(max_keys=100000, ttl=None)
    """
    if value is None or value == "memory":
        return MemoryLedger(ttl=ttl)
    if isinstance(value, str):
        if value.startswith(_REDIS_SCHEMES):
            try:
                return RedisLedger(value, ttl=ttl)
            except ImportError:
                raise ConfigError(
                    f"{where} = {value!r} needs the redis package: pip install 'mixtrack[redis]'"
                ) from None
            except ValueError as exc:
                raise ConfigError(f"{where} = {value!r} is not a valid URL: {exc}") from None
        raise ConfigError(f"{where} must be 'memory', a redis:// URL or a Ledger, got {value!r}")
    if all(callable(getattr(value, name, None)) for name in ("add", "get", "release")):
        ledger: Ledger = value
        return ledger
    raise ConfigError(
        f"{where} must be 'memory', a redis:// URL or a Ledger object (add, get, release), "
        f"got {value!r}"
    )


@attrs.frozen
class EndpointResponse:
    """What an endpoint answers; adapters turn it into their framework's response.

    >>> EndpointResponse(204).status
    204
    """

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


#: An endpoint handler: the request's tracker and the request body in, a response out.
Endpoint = Callable[["RequestTracker", bytes], EndpointResponse]


class Endpoints:
    """Requests the app answers itself, before its own routes: ``(method, path) -> handler``.

    Paths live under ``/_mixtrack/``. The answer is settled like a page: a status below
    400 commits what the handler held (exposures, events), an error discards it.

    >>> endpoints = Endpoints()
    >>> endpoints.add("GET", "/_mixtrack/ping", lambda tracker, body: EndpointResponse(200))
    >>> endpoints.match("GET", "/_mixtrack/ping") is not None, endpoints.match("GET", "/")
    (True, None)
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Endpoint] = {}

    def add(self, method: str, path: str, handler: Endpoint) -> None:
        """Serve ``method path`` with ``handler``; the path must start with ``/_mixtrack/``."""
        if not path.startswith(ENDPOINT_PREFIX):
            raise ConfigError(f"endpoint paths start with {ENDPOINT_PREFIX!r}, got {path!r}")
        self._routes[(method.upper(), path)] = handler

    def match(self, method: str, path: str) -> Endpoint | None:
        """The handler for this request, or None (a cheap prefix test for every other path)."""
        if not path.startswith(ENDPOINT_PREFIX):
            return None
        return self._routes.get((method.upper(), path))

    def __len__(self) -> int:
        return len(self._routes)

    def __repr__(self) -> str:
        return f"<Endpoints {sorted(f'{m} {p}' for m, p in self._routes)}>"


class WebApp:
    """One app's integration: client, experiments, settings, signer, endpoints, helpers.

    ``client`` is a :class:`mixtrack.Client` or :class:`mixtrack.AsyncClient` (any object
    with ``track``); ``flags`` anything :func:`resolve_flags` accepts (None: no
    experiments); ``ledger`` anything :func:`resolve_ledger` accepts; ``secret`` (and
    ``secret_fallbacks``) sign the device-id cookie.
    """

    def __init__(
        self,
        client: Tracker,
        *,
        flags: Any = None,
        ledger: Any = "memory",
        settings: WebSettings | None = None,
        secret: str | bytes = "",
        secret_fallbacks: tuple[str | bytes, ...] = (),
        on_ledger_error: LedgerFallback = "memory",
    ) -> None:
        self.client = client
        self.settings = settings if settings is not None else WebSettings()
        self.flags = resolve_flags(flags) if not hasattr(flags, "evaluate") else flags
        self.ledger = ledger if hasattr(ledger, "add") else resolve_ledger(ledger)
        self.experiments: Experiments | None = (
            Experiments(client, self.flags, ledger=self.ledger, on_ledger_error=on_ledger_error)
            if self.flags is not None
            else None
        )
        self.signer = CookieSigner(secret, secret_fallbacks)
        #: The secret keys, signing one first: features derive their own keys from them.
        self.secrets: tuple[str | bytes, ...] = tuple(k for k in (secret, *secret_fallbacks) if k)
        self.utm_signer = CookieSigner(secret, secret_fallbacks, purpose="mixtrack.web.utm")
        self.endpoints = Endpoints()
        #: Template functions, ``name -> helper(tracker, *args, **kwargs)``; see
        #: :mod:`mixtrack.web` for the built-in ones.
        self.helpers: dict[str, Callable[..., Any]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        #: Counts of requests that are not a person and of what was not sent for them.
        self.traffic = TrafficCounter()
        config = getattr(client, "config", None)
        #: The project token (names mixpanel-browser's cookies); None when the client has none.
        self.token: str | None = getattr(config, "token", None) or None
        from mixtrack.web._extensions import install_builtin
        from mixtrack.web._visitor import warm_user_agent_parser

        install_builtin(self)
        if "user_agent" in self.settings.context:
            warm_user_agent_parser()

    def traffic_stats(self) -> TrafficStats:
        """Requests by kind (person, crawler, speculative, opted_out) and the events that
        were not sent for them (see :class:`~mixtrack.web.TrafficStats`).

        >>> app.traffic_stats().requests.get("crawler", 0)  # doctest: +SKIP
        3
        """
        return self.traffic.stats()

    def warn_once(self, key: str, message: str, *args: Any) -> None:
        """Log ``message`` as a WARNING the first time ``key`` comes up in this app."""
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning(message, *args)

    def knows_experiment(self, name: str) -> bool | None:
        """Whether the provider lists ``name`` (None when it cannot list its experiments)."""
        listed = getattr(self.flags, "experiments", None)
        if listed is None or callable(listed):
            return None
        try:
            return name in listed
        except TypeError:
            return None

    def warn_unknown_experiment(self, name: str, where: str) -> None:
        """Log, once per name, that a template asked for an experiment nobody defines."""
        with self._lock:
            if name in self._warned:
                return
            self._warned.add(name)
        logger.warning(
            "%s names experiment %r, which the flag provider %r does not know: every "
            "visitor gets the fallback and no exposure is sent; check the name",
            where,
            name,
            getattr(self.flags, "name", self.flags),
        )

    def __repr__(self) -> str:
        return f"<WebApp {self.client!r} flags={self.flags!r} identity={self.settings.identity}>"
