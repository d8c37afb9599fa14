"""``MixtrackMiddleware``: pure ASGI, so streamed responses pass through untouched.

For each HTTP request it makes a :class:`mixtrack.web.RequestTracker`
(``request.state.mixtrack``), runs the app with the request's exposure scope current, adds
the device-id cookie to the response headers, and settles the tracker when the server has
taken the last body message: a status below 400 commits (exposures and template events
are sent), an exception, a 4xx or a 5xx discards. On lifespan shutdown it closes the
client it created, so what is queued is delivered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from mixtrack.web import MAX_ENDPOINT_BODY, RequestInfo, RequestTracker, serve_endpoint

if TYPE_CHECKING:
    from mixtrack_fastapi._extension import Mixtrack

__all__ = ["MixtrackMiddleware", "request_info"]

logger = logging.getLogger("mixtrack.fastapi")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "mixtrack"


def request_info(request: Request) -> RequestInfo:
    """The framework-free description of a Starlette request."""
    client = request.client
    return RequestInfo(
        method=request.method,
        url=str(request.url),
        headers={name.lower(): value for name, value in request.headers.items()},
        client_ip=client.host if client is not None else None,
        cookies=request.cookies,
    )


class MixtrackMiddleware:
    """The ASGI middleware :class:`~mixtrack_fastapi.Mixtrack` adds to the app.

    >>> app.add_middleware(MixtrackMiddleware, mixtrack=mt)  # doctest: +SKIP
    """

    def __init__(self, app: ASGIApp, mixtrack: Mixtrack) -> None:
        self.app = app
        self.mixtrack = mixtrack
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _bind_client(self) -> None:
        # AsyncClient starts its delivery task on the loop of a call made from the loop;
        # sync routes track from FastAPI's worker threads, so make one such call first.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            await self.mixtrack.client.flush(timeout=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._bind_client()
        request = Request(scope)
        loader = self.mixtrack.user_loader
        tracker = RequestTracker(
            self.mixtrack.web,
            request_info(request),
            user_loader=(lambda: loader(request)) if loader is not None else None,
        )
        scope.setdefault("state", {})[STATE_KEY] = tracker
        endpoint = self.mixtrack.web.endpoints.match(request.method, request.url.path)
        if endpoint is not None:
            await self._serve(tracker, endpoint, receive, send)
            return

        status = 0

        async def send_watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status < 400:
                    # The body may render after the headers: fix the device id now, so a
                    # new visitor still gets the cookie that names it.
                    tracker.distinct_id  # noqa: B018
                message["headers"] = [*message.get("headers", ()), *_cookies(tracker)]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                tracker.settle(0 < status < 400)

        try:
            with tracker.bound():
                await self.app(scope, receive, send_watched)
        finally:
            tracker.discard()  # no-op once settled: an exception, or no complete response

    async def _serve(
        self, tracker: RequestTracker, endpoint: Any, receive: Receive, send: Send
    ) -> None:
        # Chunks are collected and joined once (no quadratic copies), and only up to one
        # byte past the limit: a larger upload is answered 413 without being read.
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_ENDPOINT_BODY:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)[: MAX_ENDPOINT_BODY + 1]
        answer = serve_endpoint(tracker, endpoint, body)
        headers = [
            (b"content-type", answer.content_type.encode()),
            *((name.lower().encode(), value.encode()) for name, value in answer.headers),
            *_cookies(tracker),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.mixtrack.aclose()
            await send(message)

        return lifespan_send


def _cookies(tracker: RequestTracker) -> list[tuple[bytes, bytes]]:
    return [(b"set-cookie", cookie.header().encode()) for cookie in tracker.response_cookies()]
