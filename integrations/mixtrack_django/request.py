"""``request.mixtrack``: who the visitor is, their variants, and events tracked in views.

>>> def checkout(request, slug):                                      # doctest: +SKIP
...     request.mixtrack.track("Order completed", {"product": slug, "revenue": 29.0})
...     variant = request.mixtrack.variant("checkout_redesign")
...     return JsonResponse({"layout": variant.name, "shown": variant.expose()})

The machinery is :class:`mixtrack.web.RequestTracker`, the same in every framework; this
module adds what only Django has: ``request.user``, ``MIXTRACK['USER_ID']`` and
``MIXTRACK['QA_USERS']``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.signing import BadSignature
from django.http import HttpRequest

from mixtrack.errors import ValidationError
from mixtrack.web import DEVICE_PREFIX, RequestInfo, anonymous_distinct_id, new_device_id
from mixtrack.web import RequestTracker as WebRequestTracker
from mixtrack_django._runtime import Mixtrack

__all__ = ["RequestTracker", "new_anonymous_id", "request_info"]

_UNRESOLVED: Any = object()
_LEGACY_SALT = "mixtrack_django.anonymous_id:"


def new_anonymous_id() -> str:
    """A fresh anonymous distinct_id, in Mixpanel's device-id form ``$device:<uuid>``."""
    return anonymous_distinct_id(new_device_id())


def request_info(request: HttpRequest) -> RequestInfo:
    """The framework-free description of ``request``."""
    try:
        url = request.build_absolute_uri()
    except DisallowedHost:  # the host check answers this request with a 400 anyway
        url = request.get_full_path()
    return RequestInfo(
        method=request.method or "GET",
        url=url,
        headers={name.lower(): value for name, value in request.headers.items()},
        client_ip=request.META.get("REMOTE_ADDR"),
        cookies=request.COOKIES,
    )


class RequestTracker(WebRequestTracker):
    """Tracking bound to one request; the middleware puts it on ``request.mixtrack``.

    ``distinct_id`` is the authenticated user's id (``MIXTRACK['USER_ID']``, default
    ``str(user.pk)``), else ``$device:<device id>`` from the signed cookie (a fresh one for
    a new visitor). It follows ``login()`` and ``logout()`` made during the request.

    Events from ``track()`` leave at once. Events tracked while a template renders
    (``{% track %}``, the Jinja ``track()``) wait with the request's exposures and leave
    only if the response is delivered with a non-error status.
    """

    def __init__(self, plugin: Mixtrack, request: HttpRequest) -> None:
        self.plugin = plugin
        self.request = request
        self._user: Any = _UNRESOLVED
        super().__init__(plugin.web, request_info(request), user_loader=self._load_user_id)
        if not self.has_device_cookie:
            self._adopt_legacy_cookie()

    def _adopt_legacy_cookie(self) -> None:
        # Earlier releases stored "$device:<uuid>" with Django's cookie signing; keep those
        # visitors under their device id instead of starting them afresh.
        name = self.app.settings.cookie_name
        try:
            old = self.request.get_signed_cookie(name, default=None, salt=_LEGACY_SALT + name)
        except BadSignature:
            return
        if isinstance(old, str) and old.startswith(DEVICE_PREFIX):
            with contextlib.suppress(ValidationError):
                self.adopt_device_id(old[len(DEVICE_PREFIX) :])

    # -- identity ------------------------------------------------------------------------

    @property
    def user(self) -> Any:
        """The authenticated user, or None (resolved from ``request.user`` on first use)."""
        if self._user is _UNRESOLVED:
            user = getattr(self.request, "user", None)
            self._user = user if getattr(user, "is_authenticated", False) else None
        return self._user

    def _load_user_id(self) -> str | None:
        user = self.user
        return None if user is None else self.plugin.options.user_id(user)

    def use_user(self, user: Any) -> str | None:
        """Who the request is for from now on (a Django user, or None); sends nothing.

        Returns the user's distinct_id.
        """
        self._user = user if getattr(user, "is_authenticated", False) else None
        user_id = self._load_user_id()
        self.set_user(user_id)
        return user_id

    def login_user(self, user: Any) -> bool:
        """``user`` logged in: :meth:`login` with their distinct_id (the login signal)."""
        self._user = user if getattr(user, "is_authenticated", False) else None
        user_id = self._load_user_id()
        return user_id is not None and self.login(user_id)

    def logout(self) -> None:
        self._user = None
        super().logout()

    @property
    def is_qa(self) -> bool:
        """Whether ``MIXTRACK['QA_USERS']`` counts this visitor as a QA tester."""
        qa_users = self.plugin.options.qa_users
        return bool(qa_users is not None and self.user is not None and qa_users(self.user))

    def extra_properties(self) -> Mapping[str, Any]:
        return {"$is_qa_tester": True} if self.is_qa else {}

    def rotate_anonymous_id(self) -> str:
        """Start a fresh device id (what logout does); returns the new anonymous id."""
        self.logout()
        return self.anon_id
