"""The visitor's context, as Mixpanel's own client libraries send it.

Mixpanel's server-side best practices ask a server to send what the browser library would:
the client's ``ip`` (for geolocation), the browser, OS and device parsed from the
User-Agent, the page URL, the referrer and the campaign (``utm_*``) parameters. Adapters
describe the request as a :class:`RequestInfo`; :func:`context_properties` does the rest.

>>> info = RequestInfo(
...     method="GET", url="https://shop.example/pricing?utm_source=news",
...     headers={"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
...              "Firefox/121.0", "referer": "https://news.example/today"},
...     client_ip="203.0.113.7")
>>> props = context_properties(info, WebSettings(), utm={"utm_source": "news"})
>>> props["ip"], props["$browser"], props["$os"], props["$referring_domain"]
('203.0.113.7', 'Firefox', 'Linux', 'news.example')
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from mixtrack.web._settings import WebSettings

__all__ = [
    "UTM_PARAMETERS",
    "RequestInfo",
    "client_address",
    "context_properties",
    "user_agent_properties",
    "utm_parameters",
]

logger = logging.getLogger("mixtrack.web")

#: The campaign parameters mixpanel-browser keeps (``CAMPAIGN_KEYWORDS``).
UTM_PARAMETERS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "utm_id",
    "utm_source_platform",
    "utm_campaign_id",
    "utm_creative_format",
    "utm_marketing_tactic",
)
_MAX_TEXT = 255  # Mixpanel truncates longer strings anyway; the cookie stays small


@attrs.frozen
class RequestInfo:
    """What the web layer needs to know about a request, whatever the framework.

    ``url`` is the absolute URL the visitor asked for; ``headers`` has lower-case names;
    ``client_ip`` is the address of the peer that connected (a proxy, behind one).

    >>> RequestInfo("GET", "http://127.0.0.1/", {}, "127.0.0.1").secure
    False
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    client_ip: str | None = None
    cookies: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def secure(self) -> bool:
        """Whether the request came over https."""
        return self.url.startswith("https:")

    @property
    def path(self) -> str:
        """The URL path."""
        return urlsplit(self.url).path or "/"


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:5123"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str | None:
    """The visitor's address: ``peer``, unless ``peer`` is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right (each proxy appends
    the address it saw) and the first address that is not a trusted proxy is the
    visitor's. Nothing in the header is believed without a trusted peer, since any client
    can send one.

    >>> import ipaddress
    >>> proxies = [ipaddress.ip_network("10.0.0.0/8")]
    >>> client_address("10.0.0.5", "198.51.100.9, 203.0.113.7, 10.0.0.2", proxies)
    '203.0.113.7'
    >>> client_address("203.0.113.50", "198.51.100.9", proxies)
    '203.0.113.50'
    """
    address = _ip(peer) if peer else None
    if address is None or not trusted or not forwarded_for:
        return str(address) if address is not None else None
    if not any(address in network for network in trusted):
        return str(address)
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _ip(hop)
        if hop_address is None:
            break  # a malformed hop: what lies left of it cannot be trusted either
        address = hop_address
        if not any(address in network for network in trusted):
            break
    return str(address)


def _version(major: str | None, minor: str | None) -> float | str | None:
    if not major:
        return None
    text = f"{major}.{minor}" if minor else major
    try:
        return float(text)  # mixpanel-browser sends a number: 120, 17.1
    except ValueError:
        return text


def user_agent_properties(user_agent: str) -> dict[str, Any]:
    """``$browser``, ``$browser_version``, ``$os`` and ``$device`` from a User-Agent.

    Parsed with ``ua-parser`` (its rules ship with the package); a value the parser cannot
    name is left out, as mixpanel-browser leaves it out.

    >>> ua = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    ...       "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
    >>> user_agent_properties(ua)
    {'$browser': 'Mobile Safari', '$browser_version': 17.1, '$os': 'iOS', '$device': 'iPhone'}
    """
    try:
        import ua_parser
    except ImportError:  # pragma: no cover - every web extra installs it
        logger.warning("ua-parser is not installed: pip install ua-parser; no $browser/$os")
        return {}
    result = ua_parser.parse(user_agent[:1024])
    props: dict[str, Any] = {}
    agent = result.user_agent
    if agent is not None and agent.family != "Other":
        props["$browser"] = agent.family
        version = _version(agent.major, agent.minor)
        if version is not None:
            props["$browser_version"] = version
    if result.os is not None and result.os.family != "Other":
        props["$os"] = result.os.family
    device = result.device
    if device is not None and device.family not in ("Other", "Mac"):
        props["$device"] = device.family
    return props


_warm = threading.Lock()
_warmed = False


def warm_user_agent_parser() -> None:
    """Load the User-Agent rules now, once per process (it takes most of a second).

    Done at app setup, so the first request does not wait for it, and before a pre-forking
    server (gunicorn ``--preload``) forks, so workers inherit the loaded rules. Not in a
    background thread: a fork while it held the parser's locks would leave them held in
    the workers.
    """
    global _warmed
    with _warm:
        if not _warmed:
            user_agent_properties("Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0")
            _warmed = True


def utm_parameters(url: str) -> dict[str, str]:
    """The campaign parameters in ``url``'s query (first value of each, at most 255 chars).

    >>> utm_parameters("https://shop.example/?utm_source=news&utm_medium=email&page=2")
    {'utm_source': 'news', 'utm_medium': 'email'}
    """
    found: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        if key in UTM_PARAMETERS and key not in found:
            found[key] = value[:_MAX_TEXT]
    return found


def context_properties(
    info: RequestInfo, settings: WebSettings, *, utm: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The context properties of events tracked while serving ``info``.

    Only the groups in ``settings.context`` are added; ``utm`` are the campaign parameters
    kept for the visit (see :class:`~mixtrack.web.RequestTracker`).
    """
    groups = settings.context
    props: dict[str, Any] = {}
    if "ip" in groups:
        ip = client_address(
            info.client_ip, info.headers.get("x-forwarded-for"), settings.trusted_proxies
        )
        if ip is not None:
            props["ip"] = ip
    if "user_agent" in groups:
        agent = info.headers.get("user-agent")
        if agent:
            props.update(user_agent_properties(agent))
    if "url" in groups:
        props["$current_url"] = info.url
    if "referrer" in groups:
        referrer = info.headers.get("referer")
        if referrer:
            props["$referrer"] = referrer
            try:
                domain = urlsplit(referrer).hostname
            except ValueError:
                domain = None
            if domain:
                props["$referring_domain"] = domain
    if "utm" in groups and utm:
        props.update(utm)
    return props
