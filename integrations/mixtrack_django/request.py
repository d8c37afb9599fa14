"""``request.mixtrack``: who the visitor is, their variants, and events tracked in views.

>>> def checkout(request, slug):                                      # doctest: +SKIP
...     request.mixtrack.track("Order completed", {"product": slug, "revenue": 29.0})
...     variant = request.mixtrack.variant("checkout_redesign")
...     return JsonResponse({"layout": variant.name, "shown": variant.expose()})
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

import mixtrack
from mixtrack.exposure import RequestScope, Variant
from mixtrack_django._runtime import Mixtrack

__all__ = ["RequestTracker", "new_anonymous_id"]

_COOKIE_SALT = "mixtrack_django.anonymous_id"
_UNRESOLVED: Any = object()


def new_anonymous_id() -> str:
    """A fresh anonymous distinct_id, in Mixpanel's device-id form."""
    return f"$device:{uuid.uuid4()}"


def cookie_salt(name: str) -> str:
    return f"{_COOKIE_SALT}:{name}"


class RequestTracker:
    """Tracking bound to one request; the middleware puts it on ``request.mixtrack``.

    ``distinct_id`` is the authenticated user's id (``MIXTRACK['USER_ID']``, default
    ``str(user.pk)``), else the anonymous id from the signed cookie (a fresh one for a new
    visitor). It follows ``login()`` and ``logout()`` made during the request.

    Events from ``track()`` leave at once, like any ``client.track``. Events tracked while a
    template renders (``{% track %}``, the Jinja ``track()``) wait with the request's
    exposures and leave only if the response is delivered with a non-error status.
    """

    def __init__(self, plugin: Mixtrack, request: HttpRequest, anon_id: str | None) -> None:
        self.plugin = plugin
        self.request = request
        self.anon_id = anon_id or new_anonymous_id()
        #: True when the response must (re)set the anonymous-id cookie.
        self.cookie_changed = anon_id is None
        self.scope: RequestScope = plugin.experiments.request_scope()
        self._user: Any = _UNRESOLVED
        self._variants: dict[str, Variant] = {}
        self._deferred: list[tuple[str, str, dict[str, Any], float]] = []
        self._lock = threading.Lock()

    # -- identity ------------------------------------------------------------------------

    @property
    def user(self) -> Any:
        """The authenticated user, or None (resolved from ``request.user`` on first use)."""
        if self._user is _UNRESOLVED:
            user = getattr(self.request, "user", None)
            self._user = user if getattr(user, "is_authenticated", False) else None
        return self._user

    def set_user(self, user: Any) -> None:
        """Who the request is for from now on (login: the user; logout: None)."""
        self._user = user if getattr(user, "is_authenticated", False) else None
        with self._lock:
            self._variants.clear()

    @property
    def user_id(self) -> str | None:
        """The distinct_id of the authenticated user, or None for an anonymous visitor."""
        user = self.user
        return None if user is None else self.plugin.options.user_id(user)

    @property
    def distinct_id(self) -> str:
        """The user's id when logged in, else the anonymous id."""
        return self.user_id or self.anon_id

    def rotate_anonymous_id(self) -> str:
        """Start a fresh anonymous id (on logout); the response sets the new cookie."""
        self.anon_id = new_anonymous_id()
        self.cookie_changed = True
        return self.anon_id

    @property
    def is_qa(self) -> bool:
        """Whether ``MIXTRACK['QA_USERS']`` counts this visitor as a QA tester."""
        qa_users = self.plugin.options.qa_users
        return bool(qa_users is not None and self.user is not None and qa_users(self.user))

    def _extra(self) -> dict[str, Any]:
        return {"$is_qa_tester": True} if self.is_qa else {}

    # -- experiments ---------------------------------------------------------------------

    def variant(self, experiment: str, attributes: Mapping[str, Any] | None = None) -> Variant:
        """The visitor's variant of ``experiment``; evaluating sends nothing.

        Show it, then mark it shown: templates do that with ``{% experiment %}``; JSON
        views call ``variant.expose()`` when they return it. Without ``attributes`` the
        variant is evaluated once per request.
        """
        if attributes:
            return self.plugin.experiments.variant(self.distinct_id, experiment, attributes)
        with self._lock:
            variant = self._variants.get(experiment)
        if variant is None or variant.distinct_id != self.distinct_id:
            variant = self.plugin.experiments.variant(self.distinct_id, experiment)
            with self._lock:
                self._variants[experiment] = variant
        return variant

    # -- events --------------------------------------------------------------------------

    def track(self, event: str, properties: Mapping[str, Any] | None = None) -> None:
        """Track ``event`` for this visitor now (never blocks, never raises on I/O).

        >>> request.mixtrack.track("Viewed product", {"product": "pro"})  # doctest: +SKIP
        """
        props = {**self._extra(), **(properties or {})}
        self.plugin.client.track(self.distinct_id, event, props)

    def track_on_delivery(self, event: str, properties: Mapping[str, Any] | None = None) -> None:
        """Track ``event`` only if this response is delivered with a non-error status.

        What the render-time tags use; the event keeps the time it was tracked at.
        """
        props = {**self._extra(), **(properties or {})}
        with self._lock:
            self._deferred.append((self.distinct_id, event, props, time.time()))

    def people_set(self, properties: Mapping[str, Any]) -> None:
        """Set profile properties of this visitor (``$set``)."""
        self.plugin.client.people_set(self.distinct_id, dict(properties))

    # -- settling ------------------------------------------------------------------------

    def commit(self) -> int:
        """Send what waited for delivery: exposures and render-time events."""
        with self._lock:
            deferred, self._deferred = self._deferred, []
        with mixtrack.context(**self._extra()):
            sent = self.scope.commit()
        for distinct_id, event, props, when in deferred:
            self.plugin.client.track(distinct_id, event, props, time=when)
        return sent + len(deferred)

    def discard(self) -> int:
        """Drop what waited for delivery; the exposures can happen on a later render."""
        with self._lock:
            deferred, self._deferred = self._deferred, []
        return self.scope.discard() + len(deferred)

    def __repr__(self) -> str:
        return f"<RequestTracker {self.distinct_id!r} {self.scope!r}>"
