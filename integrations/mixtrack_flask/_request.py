"""One request's tracking: the visitor's identity, and what is held until delivery.

Exposures made while the request renders go into an exposure scope, and events from
``track_on_render`` wait beside them. Both are sent when the server has delivered the
response with a non-error status, below 400 (for a streamed body: after its last chunk), and
dropped when the view or template raised, the status is 4xx or 5xx, or the stream broke off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flask import Response

from mixtrack import ConfigError
from mixtrack.exposure import RequestScope, Variant

if TYPE_CHECKING:
    from mixtrack_flask._state import MixtrackState

__all__ = ["RequestState"]

logger = logging.getLogger("mixtrack.flask")


class RequestState:
    """Tracking for the request being served; reach it through the module helpers.

    ``cookie`` is the anonymous id read from the request's cookie (None when absent or
    forged). The scope is entered here, in the request's context, so every ``expose()``
    made while the request is handled is held by it.
    """

    def __init__(self, app_state: MixtrackState, anon_id: str | None) -> None:
        self.app_state = app_state
        self._anon_id = anon_id
        self.cookie_action: str | None = None  # "set" or "delete" on the response
        self._user_id: str | None = None
        self._loaded = False
        self._loaded_user: str | None = None
        self._variants: dict[tuple[str, str], Variant] = {}
        self._renders: list[tuple[str, str, dict[str, Any], float]] = []
        self._lock = threading.Lock()
        self._settled = False
        self.awaiting_close = False
        self.delivered = False
        self.scope: RequestScope | None = None
        experiments = app_state.experiments
        if experiments is not None:
            self.scope = experiments.request_scope()
            self.scope.__enter__()

    # -- identity ------------------------------------------------------------------------

    def _user(self) -> str | None:
        if self._user_id is not None:
            return self._user_id
        if not self._loaded:
            loaded = self.app_state.identity_loader()
            self._loaded_user = None if loaded in (None, "") else str(loaded)
            self._loaded = True
        return self._loaded_user

    @property
    def distinct_id(self) -> str:
        """The user's id when logged in, else the anonymous id (created on first use)."""
        return self._user() or self.anon_id

    @property
    def anon_id(self) -> str:
        """The visitor's anonymous id; a new one is made (and set as cookie) if needed."""
        if self._anon_id is None:
            self._anon_id = self.app_state.new_anonymous_id()
            self.cookie_action = "set"
        return self._anon_id

    @property
    def cookie_value(self) -> str | None:
        """The anonymous id for the cookie (None once it was joined to a user)."""
        return self._anon_id

    def login(self, user_id: str | int) -> bool:
        """The visitor is ``user_id`` from now on; join the anonymous history to them.

        Sends ``$identify`` and links the ids in the experiments ledger, so the user keeps
        the variant seen anonymously and is not exposed again. The anonymous id is then
        used up: the cookie is removed, and logging out starts a fresh one. Returns True
        when an anonymous id was joined.
        """
        user = str(user_id)
        anon = self._anon_id
        self._user_id = user
        if anon is None or anon == user:
            return False
        self.app_state.client.identify(user, anon)
        if self.app_state.experiments is not None:
            self.app_state.experiments.identify(anon, user)
        self._anon_id = None
        self.cookie_action = "delete"
        self._variants.clear()
        return True

    def logout(self) -> None:
        """The visitor is anonymous again, under a fresh anonymous id."""
        self._user_id = None
        self._loaded, self._loaded_user = True, None
        self._anon_id = self.app_state.new_anonymous_id()
        self.cookie_action = "set"
        self._variants.clear()

    # -- events and variants ---------------------------------------------------------------

    def track(self, event: str, properties: Mapping[str, Any] | None, **kwargs: Any) -> None:
        """``client.track`` for this visitor, sent now."""
        self.app_state.client.track(self.distinct_id, event, properties, **kwargs)

    def track_on_render(self, event: str, properties: Mapping[str, Any]) -> None:
        """Hold ``event`` until the response is delivered, like the exposures."""
        with self._lock:
            held = not self._settled
            if held:
                self._renders.append((self.distinct_id, event, dict(properties), time.time()))
        if not held:
            self.track(event, properties)

    def variant(self, experiment: str, attributes: Mapping[str, Any] | None = None) -> Variant:
        """The visitor's variant of ``experiment``; evaluated once per request (without
        attributes), never an exposure by itself."""
        experiments = self.app_state.experiments
        if experiments is None:
            raise ConfigError(
                f"mixtrack_flask: cannot evaluate experiment {experiment!r}: no flag provider; "
                "set app.config['MIXTRACK_FLAGS'] or pass flags= to Mixtrack()"
            )
        who = self.distinct_id
        if attributes:
            return experiments.variant(who, experiment, attributes)
        key = (who, experiment)
        found = self._variants.get(key)
        if found is None:
            found = self._variants[key] = experiments.variant(who, experiment)
        return found

    # -- delivery --------------------------------------------------------------------------

    def respond(self, response: Response) -> None:
        """Called with the final response: settle now (an error status) or when delivered."""
        if response.status_code >= 400:
            self.settle(False)
            return
        if response.is_streamed and not response.direct_passthrough:
            response.response = _WatchedBody(response.response, self)
        else:
            self.delivered = True
        self.awaiting_close = True
        response.call_on_close(self.closed)

    def closed(self) -> None:
        """The server closed the response: sent in full, or given up on."""
        self.settle(self.delivered)

    def settle(self, delivered: bool) -> None:
        """Send (``delivered``) or drop what the request held; unbind the scope. Once."""
        with self._lock:
            if self._settled:
                return
            self._settled = True
            renders, self._renders = self._renders, []
        scope = self.scope
        try:
            if delivered:
                if scope is not None:
                    scope.commit()
                for distinct_id, event, properties, at in renders:
                    self.app_state.client.track(distinct_id, event, properties, time=at)
        finally:
            if scope is not None:
                _leave(scope)

    @property
    def settled(self) -> bool:
        """True once the request's exposures were sent or dropped."""
        return self._settled


def _leave(scope: RequestScope) -> None:
    try:
        scope.__exit__(None, None, None)
    except (ValueError, RuntimeError):
        # The server closed the response in another context than the one that served
        # it: the scope is settled, only its binding there stays (and is harmless).
        logger.debug("mixtrack: request scope closed outside its own context")


class _WatchedBody:
    """A streamed body that tells its request whether the last chunk went out."""

    def __init__(self, body: Iterable[str] | Iterable[bytes], state: RequestState) -> None:
        self._body = body
        self._state = state

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._body
        except BaseException:
            self._state.settle(False)
            raise
        self._state.delivered = True

    def close(self) -> None:
        close: Callable[[], object] | None = getattr(self._body, "close", None)
        if close is not None:
            close()
