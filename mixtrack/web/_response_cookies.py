"""The cookies a response sets for its visitor: the device id, the visit's campaign, and
mixpanel-browser's identity cookie when server and browser share one person."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mixtrack.web._cookie import SetCookie, decode_utm, encode_utm
from mixtrack.web._mixpanel_cookie import browser_cookie
from mixtrack.web._runtime import WebApp
from mixtrack.web._visitor import RequestInfo, utm_parameters

if TYPE_CHECKING:
    from mixtrack.web._tracker import RequestTracker

__all__ = ["response_cookies", "visit_utm"]


def visit_utm(app: WebApp, info: RequestInfo) -> tuple[dict[str, str], bool]:
    """The campaign parameters kept for the visit, and whether the cookie must change."""
    if "utm" not in app.settings.context:
        return {}, False
    landing = utm_parameters(info.url)
    if landing:  # a new campaign landing replaces what the visit kept
        return landing, True
    cookie = info.cookies.get(app.settings.utm_cookie_name)
    return decode_utm(app.utm_signer.unsign(cookie)), False


def response_cookies(tracker: RequestTracker, *, utm: dict[str, str] | None) -> list[SetCookie]:
    """What ``tracker``'s response sets; ``utm`` when the visit's campaign changed."""
    app, info = tracker.app, tracker.info
    settings = app.settings
    secure = info.secure if settings.cookie_secure is None else settings.cookie_secure
    cookies = []
    if tracker.cookie_changed:
        cookies.append(
            SetCookie(
                settings.cookie_name,
                app.signer.sign(tracker.device_id),
                max_age=settings.cookie_max_age,
                secure=secure,
                samesite=settings.cookie_samesite,
            )
        )
    if tracker.browser_changed and app.token is not None:
        browser = tracker.browser
        cookies.append(
            browser_cookie(
                app.token,
                tracker.device_id,
                tracker.user_id,
                kept=browser.properties if browser is not None else None,
                host=info.headers.get("host") or urlsplit(info.url).netloc,
                secure=secure,
                settings=settings,
            )
        )
    if utm is not None:
        cookies.append(
            SetCookie(
                settings.utm_cookie_name,
                app.utm_signer.sign(encode_utm(utm)),
                max_age=None,  # a session cookie: the visit ends with the browser
                secure=secure,
                samesite=settings.cookie_samesite,
            )
        )
    return cookies
