"""``RequestTracker``: tracking bound to one request, the same in every framework.

Who the visitor is (a signed device-id cookie, a user id from the app), their variants
(evaluated once per request), events tracked now, events and exposures held until the
response is delivered (:meth:`~RequestTracker.commit`) or dropped
(:meth:`~RequestTracker.discard`), login and logout in the project's ID-merge system, and
the visitor's context properties on everything it sends.

>>> from mixtrack.testing import capture
>>> from mixtrack.web import RequestInfo, WebApp
>>> app = WebApp(capture().client, flags={"pricing_page_layout": {"grid": 50, "list": 50}},
...              secret="app-secret")
>>> tracker = RequestTracker(app, RequestInfo("GET", "https://shop.example/pricing"))
>>> tracker.distinct_id.startswith("$device:")
True
>>> tracker.experiment("pricing_page_layout").name in ("grid", "list")
True
>>> tracker.commit()
1
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mixtrack import context
from mixtrack.errors import ConfigError, ValidationError
from mixtrack.exposure import RequestScope, Variant
from mixtrack.web._cookie import SetCookie, is_device_id, new_device_id
from mixtrack.web._identity import anonymous_distinct_id, event_identity, send_identify
from mixtrack.web._mixpanel_cookie import read_browser_ids
from mixtrack.web._response_cookies import response_cookies, visit_utm
from mixtrack.web._runtime import WebApp
from mixtrack.web._traffic import classify
from mixtrack.web._visitor import RequestInfo, context_properties
from mixtrack.web._withheld import HeldEvent as _Held
from mixtrack.web._withheld import keep_for_activation, withheld_properties

__all__ = ["RequestTracker"]

logger = logging.getLogger("mixtrack.web")

UserLoader = Callable[[], "str | int | None"]


class RequestTracker:
    """Tracking for the request described by ``info``; adapters put it on the request.

    ``user_loader`` returns the logged-in user's id (or None) and is called on first use;
    :meth:`login`, :meth:`logout` and :meth:`set_user` change who the request is for.
    """

    def __init__(
        self,
        app: WebApp,
        info: RequestInfo,
        *,
        user_loader: UserLoader | None = None,
    ) -> None:
        self.app = app
        self.info = info
        settings = app.settings
        cookie = app.signer.unsign(info.cookies.get(settings.cookie_name))
        self._device_id = cookie if is_device_id(cookie) else None
        #: True when the response must set the device-id cookie.
        self.cookie_changed = False
        #: What mixpanel-browser's cookie says, when the page runs it (see _mixpanel_cookie).
        self.browser = read_browser_ids(info.cookies, app.token)
        self._earlier_ids: tuple[str, ...] = ()
        self.browser_changed = self._join_browser()
        self._user_loader = user_loader
        self._user_id: str | None = None
        self._user_known = user_loader is None
        self._utm_changed = False
        self._utm = self._read_utm()
        self._context: dict[str, Any] | None = None
        self._variants: dict[tuple[str, str], Variant] = {}
        self._held: list[_Held] = []
        self._lock = threading.Lock()
        self._settled = False
        experiments = app.experiments
        self.scope: RequestScope | None = (
            experiments.request_scope() if experiments is not None else None
        )
        #: Whether this request is a person looking (see :mod:`mixtrack.web._traffic`).
        self.traffic = classify(info, settings, app.token)
        app.traffic.request(self.traffic)
        #: Events of a page loaded in the background, sent if the page is shown.
        self.deferred: list[_Held] = []
        #: Set by ``mixtrack_script()``: the page carries the script that reports activation.
        self.script_on_page = False
        if self.scope is not None and not self.traffic.person:
            self.scope.withhold(keep=self.traffic.kind == "speculative")

    def _join_browser(self) -> bool:
        """Share one device id with mixpanel-browser; True when its cookie must be written."""
        browser, settings = self.browser, self.app.settings
        if browser is not None and browser.device_id and browser.device_id != self._device_id:
            if self._device_id is not None:  # the page's exposures may be under the old one
                self._earlier_ids = (anonymous_distinct_id(self._device_id),)
            self._device_id = browser.device_id
            self.cookie_changed = True
        return browser is None and settings.mixpanel_browser and self.app.token is not None

    # -- identity ------------------------------------------------------------------------

    @property
    def device_id(self) -> str:
        """The visitor's device id, from the cookie (a new one, and a new cookie, if none)."""
        if self._device_id is None:
            self._device_id = new_device_id()
            self.cookie_changed = True
        return self._device_id

    @property
    def has_device_cookie(self) -> bool:
        """Whether the request came with a valid device-id cookie."""
        return self._device_id is not None and not self.cookie_changed

    def adopt_device_id(self, device_id: str) -> None:
        """Continue under ``device_id`` (say, read from an older cookie format); the
        response writes it in the current format."""
        if not is_device_id(device_id):
            raise ValidationError(f"a device id is 1-64 of [A-Za-z0-9-], got {device_id!r}")
        self._device_id = device_id
        self.cookie_changed = True

    @property
    def anon_id(self) -> str:
        """The anonymous distinct_id: ``$device:<device id>``."""
        return anonymous_distinct_id(self.device_id)

    @property
    def user_id(self) -> str | None:
        """The logged-in user's id, or None for an anonymous visitor."""
        if not self._user_known:
            self._user_known = True
            loaded = self._user_loader() if self._user_loader is not None else None
            self._user_id = None if loaded in (None, "") else str(loaded)
        return self._user_id

    @property
    def distinct_id(self) -> str:
        """The user's id when logged in, else the anonymous id."""
        return self.user_id or self.anon_id

    def set_user(self, user_id: str | int | None) -> None:
        """Who the request is for from now on, without sending anything (see :meth:`login`)."""
        self._user_id = None if user_id in (None, "") else str(user_id)
        self._user_known = True

    def login(self, user_id: str | int) -> bool:
        """The visitor logged in as ``user_id``: join their device to the user.

        Sends ``$identify`` in the project's ID-merge system (see :mod:`mixtrack.web`) and
        links the ids for experiments, so the user keeps the variant seen before login and
        is not exposed again. The device id stays. Returns False when nothing was joined
        (the same user again).
        """
        user = str(user_id)
        if not user:
            raise ValidationError("login() needs a non-empty user id, got ''")
        # Not self.user_id: by the time a framework's login signal fires, its own notion
        # of the current user (which the loader reads) already names the new user.
        previous = self._user_id if self._user_known else None
        self.set_user(user)
        if previous == user:
            return False
        send_identify(
            self.app.client, self.app.settings.identity, self.device_id, user, **self.context()
        )
        if self.app.experiments is not None:
            self.app.experiments.identify(self.anon_id, user)
        self.browser_changed = self.browser_changed or self._writes_browser_cookie()
        return True

    def logout(self) -> None:
        """The visitor logged out: anonymous again, under a fresh device id (a new cookie),
        so the next person on this browser is not joined to the one who left."""
        self.set_user(None)
        self._device_id = new_device_id()
        self.cookie_changed = True
        self.browser_changed = self._writes_browser_cookie()

    def _writes_browser_cookie(self) -> bool:
        return self.app.token is not None and (
            self.app.settings.mixpanel_browser or self.browser is not None
        )

    def identities(self) -> tuple[str, ...]:
        """Every id this visitor is known by in this request: the distinct_id first, then
        the anonymous id of a logged-in user and what mixpanel-browser's cookie names."""
        found = [self.distinct_id]
        if self._device_id is not None:
            found.append(anonymous_distinct_id(self._device_id))
        found.extend(self._earlier_ids)
        if self.browser is not None:
            found.extend(self.browser.ids())
        return tuple(dict.fromkeys(found))

    # -- properties ----------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        """The visitor's context properties (``ip``, ``$browser``... see :mod:`mixtrack.web`)."""
        if self._context is None:
            self._context = context_properties(self.info, self.app.settings, utm=self._utm)
        return dict(self._context)

    def identity(self) -> dict[str, Any]:
        """The identity properties of events sent now (``$device_id``, ``$user_id``)."""
        return event_identity(self.app.settings.identity, self.device_id, self.user_id)

    def properties(self) -> dict[str, Any]:
        """Everything this tracker adds to an event: the context and the identity."""
        return {**self.context(), **self.identity(), **self.extra_properties()}

    def extra_properties(self) -> Mapping[str, Any]:
        """More properties for every event (adapters override, e.g. ``$is_qa_tester``)."""
        return {}

    # -- experiments ---------------------------------------------------------------------

    def variant(self, experiment: str, attributes: Mapping[str, Any] | None = None) -> Variant:
        """The visitor's variant of ``experiment``; evaluating sends nothing.

        Without ``attributes`` it is evaluated once per request and visitor.
        """
        experiments = self.app.experiments
        if experiments is None:
            raise ConfigError(
                f"cannot evaluate experiment {experiment!r}: no flag provider is configured; "
                "set FLAGS (Django MIXTRACK['FLAGS'], Flask MIXTRACK_FLAGS, FastAPI flags=)"
            )
        who, *others = self.identities()
        if attributes:
            return experiments.variant(who, experiment, attributes, identities=others)
        key = (who, experiment)
        with self._lock:
            found = self._variants.get(key)
        if found is None:
            found = experiments.variant(who, experiment, identities=others)
            with self._lock:
                found = self._variants.setdefault(key, found)
        return found

    def experiment(
        self,
        experiment: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        where: str = "experiment()",
    ) -> Variant:
        """Evaluate ``experiment`` and mark it shown: what the template helpers do.

        An experiment the provider does not list is logged once (``where`` names the tag).
        """
        if self.app.knows_experiment(experiment) is False:
            self.app.warn_unknown_experiment(experiment, where)
        variant = self.variant(experiment, attributes)
        if variant.reason == "unknown experiment":
            self.app.warn_unknown_experiment(experiment, where)
        self.expose(variant)
        return variant

    def expose(self, variant: Variant) -> bool:
        """``variant.expose()`` held by this request (whatever scope is current)."""
        with self.bound():
            return variant.expose()

    # -- events --------------------------------------------------------------------------

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """A block in which events sent by anyone carry this visitor's properties."""
        with context(**self.properties()):
            yield

    def track(
        self,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        time: float | None = None,
        insert_id: str | None = None,
    ) -> None:
        """Track ``event`` for this visitor now (never blocks, never raises on I/O).

        >>> tracker.track("Order completed", {"product": "pro", "revenue": 29.0})
        ... # doctest: +SKIP

        A request that is not a person (see :attr:`traffic`) sends nothing now: see
        :func:`~mixtrack.web._traffic.withheld_properties`.
        """
        if not self.traffic.person:
            kept = withheld_properties(self, event, properties, insert_id)
            if kept is None:
                return
            properties = kept
        with self.sending():
            self.app.client.track(
                self.distinct_id, event, properties, time=time, insert_id=insert_id
            )

    def track_on_delivery(
        self,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        source: str = "track_on_delivery()",
    ) -> bool:
        """Track ``event`` only if this response is delivered with a non-error status.

        What template helpers use; the event keeps the time it was tracked at. A bad
        property value is logged as a WARNING naming ``source``, the event and the problem,
        and the event is left out (a template never fails for it). Returns True when held.
        """
        props = dict(properties or {})
        try:
            if not isinstance(event, str) or not event:
                raise ValidationError(f"event name must be a non-empty str, got {event!r}")
            with context(**props):  # validates the values as track() would
                pass
        except ValidationError as exc:
            logger.warning("%s: event %r left out: %s", source, event, exc)
            return False
        if not self.traffic.person:
            kept = withheld_properties(self, event, props, None)
            if kept is None:
                return self.traffic.kind == "speculative"
            props = kept
        held = _Held(self.distinct_id, event, {**self.identity(), **props}, time.time(), source)
        with self._lock:
            if not self._settled:
                self._held.append(held)
                return True
        self._send_held([held])  # settled already (a late render): send as delivered
        return True

    def people_set(self, properties: Mapping[str, Any]) -> None:
        """Set profile properties of this visitor (``$set``)."""
        self.app.client.people_set(self.distinct_id, dict(properties))  # type: ignore[attr-defined]

    # -- settling ------------------------------------------------------------------------

    @property
    def settled(self) -> bool:
        """True once :meth:`commit` or :meth:`discard` ran."""
        return self._settled

    def _take(self) -> list[_Held] | None:
        with self._lock:
            if self._settled:
                return None
            self._settled = True
            held, self._held = self._held, []
            return held

    def _send_held(self, held: list[_Held]) -> None:
        with context(**self.context(), **self.extra_properties()):
            for item in held:
                try:
                    self.app.client.track(
                        item.distinct_id, item.event, item.properties, time=item.time
                    )
                except ValidationError as exc:
                    logger.warning("%s: event %r left out: %s", item.source, item.event, exc)

    def commit(self) -> int:
        """The response was delivered: send the held exposures and events. Once.

        Returns how many events were handed to the client.
        """
        held = self._take()
        if held is None:
            return 0
        if self.traffic.kind == "speculative":
            keep_for_activation(self)
        sent = 0
        if self.scope is not None:
            if self.scope.exposures:
                with self.sending():
                    sent = self.scope.commit()
            else:  # nothing to send: leave the visitor's id (and cookie) alone
                self.scope.commit()
        if held:
            self._send_held(held)
        return sent + len(held)

    def discard(self) -> int:
        """The response failed or was an error: drop what was held. Once.

        The exposures' ledger reservations are released, so the next page that renders
        exposes again. Returns how many were dropped.
        """
        held = self._take()
        if held is None:
            return 0
        dropped = self.scope.discard() if self.scope is not None else 0
        return dropped + len(held)

    def settle(self, delivered: bool) -> int:
        """:meth:`commit` when ``delivered``, else :meth:`discard`."""
        return self.commit() if delivered else self.discard()

    @contextlib.contextmanager
    def bound(self) -> Iterator[RequestTracker]:
        """Make this request's exposure scope current in the block (settling nothing)."""
        if self.scope is None:
            yield self
            return
        with self.scope.bound():
            yield self

    # -- cookies -------------------------------------------------------------------------

    def _read_utm(self) -> dict[str, str]:
        utm, self._utm_changed = visit_utm(self.app, self.info)
        return utm

    def response_cookies(self) -> list[SetCookie]:
        """The cookies the response must set (call it when the headers are written)."""
        return response_cookies(self, utm=self._utm if self._utm_changed else None)

    def __repr__(self) -> str:
        state = "settled" if self._settled else f"{len(self._held)} held"
        return f"<RequestTracker {self.distinct_id!r} {state} {self.scope!r}>"
