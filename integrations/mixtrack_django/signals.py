"""Login and logout: join the visitor's anonymous and known ids, keep their variants.

Connected by the app config to Django's ``user_logged_in`` and ``user_logged_out``:

- at login, ``client.identify(user_id, anon_id=<cookie id>)`` joins the visitor's
  pre-login and post-login activity in one identity, ``experiments.identify(...)`` keeps
  the variant they were shown and prevents a second exposure, and
  ``MIXTRACK['USER_PROPERTIES']`` (if set) sends ``people_set`` for the user;
- at logout, the visitor gets a fresh anonymous id (a new cookie), so the next person on
  the same browser is not mixed up with the one who left.
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
    """Identify the user with the visitor's anonymous id; send their profile properties."""
    tracker = _tracker(request)
    plugin = tracker.plugin if tracker is not None else get_mixtrack()
    user_id = plugin.options.user_id(user)
    if tracker is not None:
        anon_id = tracker.anon_id
        tracker.set_user(user)
        if anon_id != user_id:
            plugin.client.identify(user_id, anon_id=anon_id)
            plugin.experiments.identify(anon_id, user_id)
    else:
        logger.warning(
            "user %r logged in on a request without request.mixtrack: add "
            "'mixtrack_django.middleware.MixtrackMiddleware' to MIDDLEWARE so the visit "
            "before login is joined to the user",
            user_id,
        )
    mapping = plugin.options.user_properties
    if mapping is not None:
        properties = dict(mapping(user) or {})
        if properties:
            plugin.client.people_set(user_id, properties)


def on_user_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Give the browser a fresh anonymous id."""
    tracker = _tracker(request)
    if tracker is not None:
        tracker.set_user(None)
        tracker.rotate_anonymous_id()
