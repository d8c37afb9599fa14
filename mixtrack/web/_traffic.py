"""Which requests are a person looking at a page, and which are not.

An exposure says "a person saw this variant". Three kinds of request render the page with
nobody looking, and one kind has a person who asked not to be tracked:

- ``"crawler"``: a search engine, an AI agent, a link unfurler or an uptime checker (its
  User-Agent is on the `crawlerdetect <https://pypi.org/project/crawlerdetect/>`_ list or
  matches ``CRAWLER_PATTERNS``), or a request from ``INTERNAL_NETWORKS``;
- ``"speculative"``: a page loaded in the background that may never be shown: a prefetch or
  prerender (``Sec-Purpose: prefetch``, ``Sec-Purpose: prefetch;prerender``, ``Purpose:
  prefetch``, ``X-Moz: prefetch``) or a preview (``X-Purpose: preview``);
- ``"opted_out"``: ``Sec-GPC: 1``, mixpanel-browser's opt-out cookie
  (``__mp_opt_in_out_<token>=0``) or, with ``RESPECT_DNT``, ``DNT: 1``.

Each gets the page and its variant as anyone would; what differs is what is sent.

>>> info = RequestInfo("GET", "https://shop.example/", {"user-agent": "Mozilla/5.0 "
...     "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
>>> classify(info, WebSettings(), token="tok")
Traffic(kind='crawler', reason='User-Agent matches Googlebot')
>>> classify(RequestInfo("GET", "/", {"sec-purpose": "prefetch;prerender"}), WebSettings()).kind
'speculative'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from mixtrack.web._settings import WebSettings
from mixtrack.web._visitor import RequestInfo, client_address

__all__ = [
    "TRAFFIC_KINDS",
    "Traffic",
    "TrafficCounter",
    "TrafficKind",
    "TrafficStats",
    "classify",
    "crawler_match",
    "opt_out_cookie_name",
    "speculative_reason",
]

logger = logging.getLogger("mixtrack.web")

TrafficKind = Literal["person", "crawler", "speculative", "opted_out"]
TRAFFIC_KINDS: tuple[TrafficKind, ...] = ("person", "crawler", "speculative", "opted_out")

_MAX_AGENT = 1024  # longer User-Agents are junk; the list's patterns match near the start
_OPT_OUT_PREFIX = "__mp_opt_in_out_"  # mixpanel-browser's default opt-out cookie prefix


@attrs.frozen
class Traffic:
    """What a request is (:data:`TrafficKind`) and why, in words for logs and tests.

    >>> Traffic().person
    True
    """

    kind: TrafficKind = "person"
    reason: str = ""

    @property
    def person(self) -> bool:
        """A person who may be tracked: exposures and events go as usual."""
        return self.kind == "person"


def speculative_reason(headers: Mapping[str, str]) -> str | None:
    """The header that marks a background load (prefetch, prerender, preview), or None.

    ``Sec-Purpose`` is a structured list whose first item is ``prefetch`` for both of
    Chromium's speculation rules (``prefetch;prerender`` for a prerender).

    >>> speculative_reason({"sec-purpose": "prefetch;prerender"})
    'Sec-Purpose: prefetch;prerender'
    >>> speculative_reason({"x-purpose": "preview"}), speculative_reason({})
    ('X-Purpose: preview', None)
    """
    sec_purpose = headers.get("sec-purpose")
    if sec_purpose and sec_purpose.split(";")[0].strip().lower() == "prefetch":
        return f"Sec-Purpose: {sec_purpose}"
    for name, title, value in (
        ("purpose", "Purpose", "prefetch"),
        ("x-moz", "X-Moz", "prefetch"),
        ("x-purpose", "X-Purpose", "preview"),
    ):
        found = headers.get(name)
        if found is not None and found.strip().lower() == value:
            return f"{title}: {found}"
    return None


class _CrawlerList:
    """The crawlerdetect list, loaded once per process on first use."""

    def __init__(self) -> None:
        self._detector: Any = None
        self._missing = False
        self._lock = threading.Lock()

    def match(self, user_agent: str) -> str | None:
        detector = self._detector
        if detector is None and not self._missing:
            with self._lock:
                if self._detector is None and not self._missing:
                    try:
                        from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped,import-not-found,unused-ignore]
                    except ImportError:
                        self._missing = True
                        logger.warning(
                            "crawlerdetect is not installed (pip install crawlerdetect): only "
                            "CRAWLER_PATTERNS and INTERNAL_NETWORKS mark crawlers"
                        )
                    else:
                        self._detector = CrawlerDetect()
            detector = self._detector
        if detector is None:
            return None
        # One shared instance keeps its cache of answers; its "last match" is per instance,
        # so the check and the read of the name go together.
        with self._lock:
            if not detector.is_crawler(user_agent):
                return None
            name = detector.get_matches()
        return str(name) if name else "crawlerdetect"


_CRAWLERS = _CrawlerList()


def crawler_match(user_agent: str, settings: WebSettings) -> str | None:
    """What in ``user_agent`` names a crawler (list entry or extra pattern), or None.

    >>> crawler_match("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
    ...               "GPTBot/1.2; +https://openai.com/gptbot)", WebSettings())
    'GPTBot'
    """
    agent = user_agent.strip()[:_MAX_AGENT]
    if not agent:
        return None
    for pattern in settings.crawler_patterns:
        found = pattern.search(agent)
        if found:
            return found.group(0) or pattern.pattern
    return _CRAWLERS.match(agent)


def opt_out_cookie_name(token: str) -> str:
    """mixpanel-browser's opt-out cookie for project ``token`` (when it keeps it in a cookie).

    >>> opt_out_cookie_name("tok")
    '__mp_opt_in_out_tok'
    """
    return _OPT_OUT_PREFIX + token


def classify(info: RequestInfo, settings: WebSettings, token: str | None = None) -> Traffic:
    """Whether ``info`` is a person, a crawler, a background load or an opted-out visitor.

    ``token`` is the project token, which names mixpanel-browser's opt-out cookie. An
    opt-out wins over everything (nothing is sent), then crawlers, then background loads.
    """
    headers = info.headers
    if headers.get("sec-gpc", "").strip() == "1":
        return Traffic("opted_out", "Sec-GPC: 1")
    if token and info.cookies.get(opt_out_cookie_name(token)) == "0":
        return Traffic("opted_out", f"cookie {opt_out_cookie_name(token)}=0")
    if settings.respect_dnt and headers.get("dnt", "").strip() == "1":
        return Traffic("opted_out", "DNT: 1")
    agent = headers.get("user-agent")
    name = crawler_match(agent, settings) if agent else None
    if name is not None:
        return Traffic("crawler", f"User-Agent matches {name}")
    if settings.internal_networks:
        address = client_address(
            info.client_ip, headers.get("x-forwarded-for"), settings.trusted_proxies
        )
        if address is not None and _inside(address, settings):
            return Traffic("crawler", f"address {address} is in INTERNAL_NETWORKS")
    reason = speculative_reason(headers)
    if reason is not None:
        return Traffic("speculative", reason)
    return Traffic()


def _inside(address: str, settings: WebSettings) -> bool:
    import ipaddress

    ip = ipaddress.ip_address(address)
    return any(ip in network for network in settings.internal_networks)


@attrs.frozen
class TrafficStats:
    """Counters of a :class:`~mixtrack.web.WebApp` since it was created.

    ``requests``: requests by :data:`TrafficKind`; ``events_dropped``: request events not
    sent because the request was not a person (a crawler with ``CRAWLER_EVENTS='drop'``,
    an opt-out); ``events_ignored``: crawler events sent with ``$ignore: true``;
    ``events_deferred``: events of background loads kept for the page's activation;
    ``activations``: background-loaded pages that were then shown; ``unscripted``:
    background loads that rendered an experiment on a page without ``mixtrack_script()``.

    >>> TrafficStats().events_dropped
    0
    """

    requests: Mapping[str, int] = attrs.field(factory=dict)
    events_dropped: int = 0
    events_ignored: int = 0
    events_deferred: int = 0
    activations: int = 0
    unscripted: int = 0


class TrafficCounter:
    """Thread-safe counts behind :class:`TrafficStats`."""

    def __init__(self) -> None:
        self._requests: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def request(self, traffic: Traffic) -> None:
        with self._lock:
            self._requests[traffic.kind] = self._requests.get(traffic.kind, 0) + 1

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + n

    def stats(self) -> TrafficStats:
        with self._lock:
            return TrafficStats(requests=dict(self._requests), **self._counts)
