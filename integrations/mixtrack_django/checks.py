"""System checks (``manage.py check``): the middleware is installed, after authentication."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

__all__ = ["check_middleware"]

MIDDLEWARE = "mixtrack_django.middleware.MixtrackMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"


@checks.register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W001: middleware missing; W002: placed before AuthenticationMiddleware."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        return [
            checks.Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE",
                hint="Add it after AuthenticationMiddleware: without it there is no "
                "request.mixtrack and templates cannot mark exposures.",
                id="mixtrack_django.W001",
            )
        ]
    if AUTHENTICATION in middleware and middleware.index(AUTHENTICATION) > middleware.index(
        MIDDLEWARE
    ):
        return [
            checks.Warning(
                f"{MIDDLEWARE} comes before {AUTHENTICATION}",
                hint="Move it after AuthenticationMiddleware so logged-in users are "
                "tracked under their own id.",
                id="mixtrack_django.W002",
            )
        ]
    return []
