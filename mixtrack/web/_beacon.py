"""Reading a beacon: is it from the app's own pages, and which token does its body hold."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

__all__ = ["cross_site", "token_text"]


def cross_site(fetch_site: str | None, origin: str | None, host: str | None) -> str | None:
    """Why the request does not come from the app's own pages, or None."""
    site = (fetch_site or "").lower()
    if site and site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site is {fetch_site!r}; beacons come from the app's own pages"
    if origin == "null":
        # An opaque origin (sandboxed frame, data: page): never one of the app's pages.
        return "Origin is 'null'; beacons come from the app's own pages"
    if origin and host and urlsplit(origin).netloc.lower() != host.lower():
        return f"Origin {origin!r} is not this app's host {host!r}"
    return None


def token_text(body: bytes, content_type: str | None) -> str:
    kind = (content_type or "text/plain").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ValueError("the beacon body is not UTF-8 text") from None
    if kind == "text/plain":
        return text
    if kind == "application/json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # deeply nested arrays exhaust the parser
            raise ValueError("the beacon body is not JSON (or is nested too deeply)") from None
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise ValueError('a JSON beacon is {"token": "<exposure token>"}')
        return str(data["token"])
    if kind == "application/x-www-form-urlencoded":
        values = parse_qs(text).get("token")
        if not values:
            raise ValueError("a form beacon has a token=<exposure token> field")
        return values[0]
    raise ValueError(
        f"content type {content_type!r} is not one a beacon uses: send the token as "
        "text/plain, application/json or a form"
    )
