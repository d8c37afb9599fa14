"""Login and logout: join the visitor's device to the user, keep their variants.

Connected by the app config to Django's ``user_logged_in`` and ``user_logged_out``:

- at login, ``request.mixtrack.login_user(user)`` sends ``$identify`` in the project's
  ID-merge system (``MIXTRACK['IDENTITY']``: ``"simplified"`` or ``"original"``) and links
  the ids for experiments, so the user keeps the variant they were shown and is not
  exposed again; ``MIXTRACK['USER_PROPERTIES']`` (if set) sends ``people_set``;
- at logout, the visitor gets a fresh device id (a new cookie), so the next person on the
  same browser is not joined to the one who left.

The test client's ``login()`` and ``force_login()`` call ``login()`` on a request that never
went through the middleware: there is no visit to join, so nothing is identified or
exposed, and nothing is logged (``manage.py check`` reports a missing middleware).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from mixtrack_django._runtime import get_mixtrack
from mixtrack_django.request import RequestTracker

__all__ = ["on_user_logged_in", "on_user_logged_out"]

logger = logging.getLogger("mixtrack.django")


def _tracker(request: HttpRequest | None) -> RequestTracker | None:
    tracker = getattr(request, "mixtrack", None)
    return tracker if isinstance(tracker, RequestTracker) else None


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Identify the user with the visitor's device; send their profile properties."""
    tracker = _tracker(request)
    plugin = tracker.plugin if tracker is not None else get_mixtrack()
    user_id = plugin.options.user_id(user)
    if tracker is not None:
        tracker.login_user(user)
    else:
        logger.debug("user %r logged in outside MixtrackMiddleware; nothing to join", user_id)
    mapping = plugin.options.user_properties
    if mapping is not None:
        properties = dict(mapping(user) or {})
        if properties:
            plugin.client.people_set(user_id, properties)


def on_user_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Give the browser a fresh device id."""
    tracker = _tracker(request)
    if tracker is not None:
        tracker.logout()
