"""What the Django, Flask and FastAPI test apps share: their settings and their pages.

Each app serves ``/`` (the page of :mod:`tests.visible._page`, with its CSP), the pages of
:func:`template_pages` from a template alone, ``/launch/<action>?to=``, ``/login?user=``
and ``/logout`` (answering the request's distinct_id), ``/_test/mixpanel.js`` and
``/_test/stats``.
"""

from __future__ import annotations

import os

from tests.visible._page import (
    DJANGO_BARE,
    DJANGO_BROKEN,
    DJANGO_RENDERED,
    FLAGS,
    JINJA_BARE,
    JINJA_BROKEN,
    JINJA_RENDERED,
    MIXPANEL_JS,
    with_mixpanel,
)

__all__ = ["FLAGS", "TOKEN", "USER_COOKIE", "api_host", "mixpanel_js", "template_pages"]

TOKEN = os.environ.get("MIXTRACK_TOKEN", "visible-token")
#: The Flask and FastAPI apps' own login: the user id in a plain cookie (a test's shortcut).
USER_COOKIE = "user"


def api_host() -> str:
    """The collector the app sends to (the test harness sets it)."""
    return os.environ["MIXTRACK_API_HOST"]


def mixpanel_js() -> bytes:
    """The real mixpanel-browser bundle, served by the app at ``/_test/mixpanel.js``."""
    return MIXPANEL_JS.read_bytes()


def template_pages(engine: str) -> dict[str, str]:
    """The pages rendered from a template alone, by path, for ``engine`` ("django"/"jinja")."""
    buy = with_mixpanel(engine, TOKEN, api_host())
    if engine == "django":
        return {"broken": DJANGO_BROKEN, "rendered": DJANGO_RENDERED, "bare": DJANGO_BARE,
                "buy": buy}  # fmt: skip
    return {"broken": JINJA_BROKEN, "rendered": JINJA_RENDERED, "bare": JINJA_BARE, "buy": buy}
