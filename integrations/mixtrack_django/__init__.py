"""mixtrack for Django: exposures marked by templates, sent once the page is really shown.

Five lines of settings::

    INSTALLED_APPS += ["mixtrack_django"]
    MIDDLEWARE += ["mixtrack_django.middleware.MixtrackMiddleware"]   # after auth
    MIXTRACK = {"TOKEN": "PROJECT_TOKEN", "API_HOST": "http://127.0.0.1:8765",
                "FLAGS": "myproject.flags.provider", "LEDGER": "cache"}

then ``{% load mixtrack %}{% experiment "checkout_redesign" as variant %}`` in templates
and ``request.mixtrack.track(...)`` in views. See ``docs/django.md``.
"""

from __future__ import annotations

from mixtrack_django._runtime import Mixtrack, get_mixtrack

__all__ = ["Mixtrack", "get_mixtrack"]
