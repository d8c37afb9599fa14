"""The request being served: a :class:`mixtrack.web.RequestTracker`, settled on delivery.

Exposures made while the request renders are held by the tracker, and events from the
template's ``track()`` wait beside them. Both are sent when the server has delivered the
response with a non-error status, below 400 (for a streamed body: after its last chunk),
and dropped when the view or template raised, the status is 4xx or 5xx, or the stream
broke off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Request, Response

from mixtrack.exposure import RequestScope
from mixtrack.web import RequestInfo, RequestTracker, WebApp

__all__ = ["RequestState", "request_info"]

logger = logging.getLogger("mixtrack.flask")


def request_info(request: Request) -> RequestInfo:
    """The framework-free description of a Flask request."""
    return RequestInfo(
        method=request.method,
        url=request.url,
        headers={name.lower(): value for name, value in request.headers.items()},
        client_ip=request.remote_addr,
        cookies=request.cookies,
    )


class RequestState(RequestTracker):
    """Tracking for the request being served; reach it through the module helpers.

    The request's exposure scope is made current here, in the request's context, so every
    ``expose()`` made while the request is handled is held by it.
    """

    def __init__(
        self, web: WebApp, request: Request, user_loader: Callable[[], Any] | None
    ) -> None:
        super().__init__(web, request_info(request), user_loader=user_loader)
        self.awaiting_close = False
        self.delivered = False
        if self.scope is not None:
            self.scope.__enter__()

    # Names of earlier releases, kept working.
    def track_on_render(self, event: str, properties: Any = None) -> bool:
        """Old name of :meth:`track_on_delivery`."""
        return self.track_on_delivery(event, properties, source="track_on_render()")

    @property
    def cookie_value(self) -> str:
        """The device id the cookie holds."""
        return self.device_id

    # -- delivery --------------------------------------------------------------------------

    def respond(self, response: Response) -> None:
        """Called with the final response: settle now (an error status) or when delivered."""
        self.user_id  # noqa: B018  (the identity loader needs the app context, gone by close)
        if response.status_code >= 400:
            self.close_scope(False)
            return
        if response.is_streamed and not response.direct_passthrough:
            response.response = _WatchedBody(response.response, self)
        else:
            self.delivered = True
        self.awaiting_close = True
        response.call_on_close(self.closed)

    def closed(self) -> None:
        """The server closed the response: sent in full, or given up on."""
        self.close_scope(self.delivered)

    def close_scope(self, delivered: bool) -> None:
        """Send (``delivered``) or drop what the request held; unbind the scope. Once."""
        if self.settled:
            return
        try:
            self.settle(delivered)
        finally:
            if self.scope is not None:
                _leave(self.scope)


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
            self._state.close_scope(False)
            raise
        self._state.delivered = True

    def close(self) -> None:
        close: Callable[[], object] | None = getattr(self._body, "close", None)
        if close is not None:
            close()
