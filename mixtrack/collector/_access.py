"""Who may do what: the collector's security model, as pure functions of a request.

- The ingest endpoints (/track, /engage, /groups, /import) answer any origin: mixpanel-browser
  posts to them cross-origin, with credentials. /import needs its credentials when secrets are
  configured, as Mixpanel's does.
- Everything else (the query API, the control endpoints, the live view) is for this machine's
  own pages and programs: no CORS headers, so another origin cannot read it; a request that
  carries another ``Origin`` is refused; on a loopback bind the ``Host`` must name this machine
  (a page that rebinds its DNS name to 127.0.0.1 gets nothing); a state-changing request needs
  ``Content-Type: application/json`` and the :data:`CONTROL_HEADER`, which a page of another
  origin cannot send without a preflight the collector never grants.
- With access keys (``--secret``, or a key generated for a non-loopback bind) the query and
  control API and the live view need HTTP Basic credentials: a key as the user name, or a
  service account's ``user:password``.

>>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
(True, False)
>>> matches("s3cret", ["other", "s3cret"])
True
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Collection, Mapping

#: The custom header a state-changing control request carries (any value).
CONTROL_HEADER = "X-Mixtrack-Control"
_CONTROL_HEADER = CONTROL_HEADER.lower()
_SAFE_METHODS = ("GET", "HEAD")
_REALM = 'Basic realm="mixtrack collector", charset="UTF-8"'


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the collector on this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def matches(candidate: str, keys: Collection[str]) -> bool:
    """``candidate`` is one of ``keys``, compared in constant time (every key is compared)."""
    wanted = candidate.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(wanted, key.encode())
    return found


def basic_auth(header: str) -> tuple[str, str] | None:
    """``("user", "password")`` from an ``Authorization: Basic ...`` header."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user, password


def import_authorized(
    credentials: tuple[str, str] | None,
    params: Mapping[str, str],
    *,
    secrets: Collection[str],
    tokens: Collection[str],
    project_id: str | None = None,
) -> bool:
    """Mixpanel's /import check: a project secret, a service account with ``project_id`` (the
    configured one, when there is one), or a known project token as the Basic user name.
    Open when no secrets are configured."""
    if not secrets:
        return True
    if "api_key" in params and matches(params["api_key"], secrets):
        return True  # the Node.js client's legacy ``key`` option
    if credentials is None:
        return False
    user, password = credentials
    if not password:
        return matches(user, secrets) or (bool(tokens) and user in tokens)
    if "project_id" not in params:
        return False
    if project_id is not None and params["project_id"] != project_id:
        return False
    return matches(f"{user}:{password}", secrets)


def has_access(credentials: tuple[str, str] | None, keys: Collection[str]) -> bool:
    """The query and control API's check: open without keys, else a key (or a service
    account's ``user:password``) in Basic credentials."""
    if not keys:
        return True
    if credentials is None:
        return False
    user, password = credentials
    return matches(f"{user}:{password}" if password else user, keys)


def refusal(
    method: str,
    headers: Mapping[str, str],
    *,
    scheme: str,
    keys: Collection[str],
    loopback: bool,
    page: bool = False,
) -> tuple[int, str, tuple[tuple[str, str], ...]] | None:
    """Why a request to the query/control API or the live view (``page=True``) is refused:
    ``(status, message, headers)``, or ``None`` when it may go ahead."""
    host = headers.get("host", "")
    if loopback and not is_loopback(_hostname(host)):
        return (
            403,
            f"Host {host!r} is not this machine: the collector listens on loopback only; "
            "use http://127.0.0.1 or http://localhost",
            (),
        )
    origin = headers.get("origin")
    if origin is not None and origin != f"{scheme}://{host}":
        return (
            403,
            f"requests from the page at {origin!r} are refused: the query and control API "
            "answer only this collector's own pages and programs (ingest endpoints accept "
            "any origin)",
            (),
        )
    if not has_access(basic_auth(headers.get("authorization", "")), keys):
        return (
            401,
            "credentials required: send HTTP Basic auth with the collector's secret as the "
            "user name (or a service account's user:password)",
            (("WWW-Authenticate", _REALM),),
        )
    if page or method in _SAFE_METHODS:
        return None
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" or _CONTROL_HEADER not in headers:
        return (
            403,
            f"{method} on the control API needs Content-Type: application/json and a "
            f"{CONTROL_HEADER} header (so that no web page can send it)",
            (),
        )
    return None


def cors_headers(
    method: str, headers: Mapping[str, str]
) -> list[tuple[str, str]]:  # the ingest endpoints only
    """What lets a browser page of any origin post events (mixpanel-browser sends its XHRs
    ``withCredentials``, so ``*`` would be refused: the origin is echoed)."""
    origin = headers.get("origin")
    if not origin:
        return []
    extra = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin"),
    ]
    if method == "OPTIONS":
        extra += [
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            (
                "Access-Control-Allow-Headers",
                headers.get("access-control-request-headers", "Content-Type"),
            ),
            ("Access-Control-Max-Age", "600"),
        ]
    return extra


def _hostname(host: str) -> str:
    """``"127.0.0.1:8765"`` -> ``"127.0.0.1"``; ``"[::1]:8765"`` -> ``"::1"``."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
