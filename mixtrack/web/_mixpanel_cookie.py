"""mixpanel-browser's cookie: one device id and one distinct_id for the server and the browser.

mixpanel-browser keeps its identity in the cookie ``mp_<token>_mixpanel``: the URL-encoded
JSON of its persisted properties, among them ``distinct_id`` (``$device:<id>`` while
anonymous), ``$device_id`` and, after ``identify()``, ``$user_id``. By default the cookie is
set on the site's registrable domain (``cross_subdomain_cookie: true``), for 365 days, on
path ``/``, readable by scripts. When that cookie is there, the server reads it; with
``MIXPANEL_BROWSER`` on, the server writes it in that same shape on a first visit, so the
browser library adopts the server's device id instead of minting its own.

>>> ids = read_browser_ids({"mp_tok_mixpanel": quote(
...     '{"distinct_id":"$device:7f3","$device_id":"7f3"}', safe="")}, "tok")
>>> ids.device_id, ids.distinct_id, ids.user_id
('7f3', '$device:7f3', None)
>>> cookie_domain("www.shop.example.com", WebSettings())
'.example.com'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import attrs

from mixtrack.web._cookie import SetCookie, is_device_id
from mixtrack.web._identity import DEVICE_PREFIX
from mixtrack.web._settings import WebSettings

__all__ = [
    "BrowserIds",
    "browser_cookie",
    "browser_cookie_name",
    "cookie_domain",
    "read_browser_ids",
]

_DAYS_365 = 365 * 24 * 3600  # mixpanel-browser's cookie_expiration default
_MAX_COOKIE = 4096  # what a browser keeps; anything longer is not mixpanel-browser's
# mixpanel-browser's own heuristics for the registrable domain (its extract_domain()):
# two labels for .com/.org and long TLDs, else allow a short second level such as .co.uk.
_SIMPLE_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.[a-z]+$", re.IGNORECASE)
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]+\.[a-z.]{2,6}$", re.IGNORECASE)


def browser_cookie_name(token: str) -> str:
    """mixpanel-browser's default cookie name for project ``token``.

    >>> browser_cookie_name("tok")
    'mp_tok_mixpanel'
    """
    return f"mp_{token}_mixpanel"


@attrs.frozen
class BrowserIds:
    """The identity mixpanel-browser keeps in its cookie, and the rest of what it keeps."""

    device_id: str | None = None
    distinct_id: str | None = None
    user_id: str | None = None
    properties: Mapping[str, Any] = attrs.field(factory=dict)

    def ids(self) -> tuple[str, ...]:
        """Every distinct_id this browser has used: ``$device:<id>``, the user's id."""
        found = []
        if self.device_id:
            found.append(DEVICE_PREFIX + self.device_id)
        for other in (self.distinct_id, self.user_id):
            if other and other not in found:
                found.append(other)
        return tuple(found)


def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= 255:
        return value
    return None


def read_browser_ids(cookies: Mapping[str, str], token: str | None) -> BrowserIds | None:
    """What mixpanel-browser's cookie for ``token`` says, or None (absent or unreadable)."""
    if not token:
        return None
    raw = cookies.get(browser_cookie_name(token))
    if not raw or len(raw) > _MAX_COOKIE:
        return None
    try:
        data = json.loads(unquote(raw))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    device_id = data.get("$device_id")
    distinct_id = _text(data.get("distinct_id"))
    if not is_device_id(device_id) and distinct_id and distinct_id.startswith(DEVICE_PREFIX):
        device_id = distinct_id[len(DEVICE_PREFIX) :]  # an older cookie without $device_id
    return BrowserIds(
        device_id=device_id if is_device_id(device_id) else None,
        distinct_id=distinct_id,
        user_id=_text(data.get("$user_id")),
        properties=data,
    )


def cookie_domain(host: str, settings: WebSettings) -> str | None:
    """The ``Domain`` mixpanel-browser gives its cookie on ``host`` (None: host-only).

    ``MIXPANEL_COOKIE_DOMAIN`` wins (mixpanel.init's ``cookie_domain``); otherwise, with
    ``MIXPANEL_CROSS_SUBDOMAIN`` (its ``cross_subdomain_cookie``, on by default), the
    registrable domain as mixpanel-browser guesses it; an IP address or ``localhost`` has
    none.

    >>> cookie_domain("127.0.0.1", WebSettings()) is None
    True
    """
    if settings.mixpanel_cookie_domain:
        return settings.mixpanel_cookie_domain
    if not settings.mixpanel_cross_subdomain:
        return None
    hostname = host.split(":")[0] if not host.startswith("[") else ""
    tld = hostname.rsplit(".", 1)[-1]
    pattern = _SIMPLE_DOMAIN if len(tld) > 4 or tld in ("com", "org") else _DOMAIN
    found = pattern.search(hostname)
    return "." + found.group(0) if found else None


def browser_cookie(
    token: str,
    device_id: str,
    user_id: str | None,
    *,
    kept: Mapping[str, Any] | None,
    host: str,
    secure: bool,
    settings: WebSettings,
) -> SetCookie:
    """``mp_<token>_mixpanel`` naming ``device_id`` (and ``user_id`` when logged in), keeping
    whatever else the browser stored in ``kept`` (super properties, first referrer...).

    >>> browser_cookie("tok", "7f3", None, kept=None, host="127.0.0.1", secure=False,
    ...                settings=WebSettings()).value
    '%7B%22distinct_id%22%3A%22%24device%3A7f3%22%2C%22%24device_id%22%3A%227f3%22%7D'
    """
    props = dict(kept or {})
    props["distinct_id"] = user_id if user_id else DEVICE_PREFIX + device_id
    props["$device_id"] = device_id
    if user_id:
        props["$user_id"] = user_id
    else:
        props.pop("$user_id", None)
    text = json.dumps(props, separators=(",", ":"), ensure_ascii=False)
    return SetCookie(
        browser_cookie_name(token),
        quote(text, safe=""),  # encodeURIComponent's output reads back with decodeURIComponent
        max_age=_DAYS_365,
        secure=secure,
        httponly=False,  # the browser library reads and rewrites it
        samesite=None,
        domain=cookie_domain(host, settings),
    )
