"""Per-app state (``app.extensions["mixtrack"]``) and the request hooks it registers."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

from mixtrack import Client
from mixtrack.exposure import Experiments, Ledger
from mixtrack.flags import FlagProvider
from mixtrack.web import MAX_ENDPOINT_BODY, WebApp, WebSettings
from mixtrack_flask._identity import IdentityLoader
from mixtrack_flask._request import RequestState

__all__ = ["EXTENSION_KEY", "MixtrackState", "app_state", "request_state"]

EXTENSION_KEY = "mixtrack"
_G_KEY = "_mixtrack_request"


class MixtrackState:
    """What one Flask app's mixtrack integration holds; one per app, never shared.

    >>> state = app.extensions["mixtrack"]  # doctest: +SKIP
    >>> state.client, state.experiments, state.ledger  # doctest: +SKIP
    """

    def __init__(
        self,
        app: Flask,
        *,
        client: Client,
        flags: FlagProvider | None,
        ledger: Ledger,
        settings: WebSettings,
        identity_loader: IdentityLoader,
    ) -> None:
        self.app_name = app.name
        self.client = client
        self.identity_loader = identity_loader
        #: the framework-free part: settings, signer, experiments, endpoints, helpers
        self.web = WebApp(
            client,
            flags=flags,
            ledger=ledger,
            settings=settings,
            secret=app.secret_key or "",
            secret_fallbacks=tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()),
        )
        self.flags = self.web.flags
        self.ledger = self.web.ledger
        self.settings = settings
        self.experiments: Experiments | None = self.web.experiments
        # The last request served in this context: a server (or test client) that never
        # closes a response has it settled when the next request starts here.
        self._last: ContextVar[RequestState | None] = ContextVar(
            f"mixtrack_flask_last_{id(self):x}", default=None
        )

    # -- the current request ---------------------------------------------------------------

    def current(self) -> RequestState:
        """This request's :class:`RequestState`, created on first use."""
        state: RequestState | None = g.get(_G_KEY)
        if state is None:
            last = self._last.get()
            if last is not None and not last.settled:
                last.close_scope(last.delivered)
            state = RequestState(self.web, request, lambda: self.identity_loader())
            setattr(g, _G_KEY, state)
            self._last.set(state)
        return state

    # -- hooks -----------------------------------------------------------------------------

    def before_request(self) -> Response | None:
        """Open the exposure scope before the view runs; answer mixtrack's own endpoints."""
        state = self.current()
        endpoint = self.web.endpoints.match(request.method, request.path)
        if endpoint is None:
            return None
        # The stream, not get_data(): read one byte past the limit, never the whole upload.
        answer = endpoint(state, request.stream.read(MAX_ENDPOINT_BODY + 1))
        response = Response(answer.body, status=answer.status, content_type=answer.content_type)
        for name, value in answer.headers:
            response.headers[name] = value
        return response

    def after_request(self, response: Response) -> Response:
        """Decide when the held exposures go out, and write the device-id cookie."""
        state: RequestState | None = g.get(_G_KEY)
        if state is None:
            return response
        if response.is_streamed and response.status_code < 400:
            # The body renders after the headers are sent: settle who the visitor is now,
            # so a new anonymous id still gets its cookie.
            state.distinct_id  # noqa: B018
        state.respond(response)
        for cookie in state.response_cookies():
            cookie.set_on(response.set_cookie)
        return response

    def teardown_request(self, exc: BaseException | None) -> None:
        """Drop what the request held when it failed or produced no response."""
        state: RequestState | None = g.get(_G_KEY)
        if state is not None and (exc is not None or not state.awaiting_close):
            state.close_scope(False)

    # -- Flask-Login signals ---------------------------------------------------------------

    def on_login(self, sender: Flask, user: Any = None, **_: Any) -> None:
        """``user_logged_in``: join the visitor's anonymous id to the user."""
        if not has_request_context() or user is None:
            return
        user_id = user.get_id()
        if user_id is not None:
            self.current().login(user_id)

    def on_logout(self, sender: Flask, user: Any = None, **_: Any) -> None:
        """``user_logged_out``: continue under a fresh anonymous id."""
        if has_request_context():
            self.current().logout()

    def __repr__(self) -> str:
        return f"<MixtrackState app={self.app_name!r} client={self.client!r}>"


def app_state(app: Flask | None = None) -> MixtrackState:
    """The :class:`MixtrackState` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    state: MixtrackState | None = target.extensions.get(EXTENSION_KEY)
    if state is None:
        raise RuntimeError(
            f"mixtrack_flask is not set up on app {target.name!r}: call "
            "Mixtrack(app) or mixtrack.init_app(app) first"
        )
    return state


def request_state() -> RequestState:
    """The current request's :class:`RequestState`; a clear error outside a request."""
    if not has_request_context():
        raise RuntimeError(
            "mixtrack_flask needs a request to know the visitor: call it inside a view, a "
            "template rendered by one, or app.test_request_context()"
        )
    return app_state().current()
