"""``MixtrackMiddleware``: one exposure scope per request, committed only when the page is shown.

Put it after ``AuthenticationMiddleware`` so it sees ``request.user``::

    MIDDLEWARE = [
        ...,
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "mixtrack_django.middleware.MixtrackMiddleware",
        ...,
    ]

For each request it resolves the visitor (``request.mixtrack``, see
:class:`~mixtrack_django.request.RequestTracker`), runs the view with the request's exposure
scope current, and then settles the scope:

- a response with status below 400 commits: the exposures marked while rendering and the
  render-time events are sent (a ``TemplateResponse`` is rendered by then);
- a ``StreamingHttpResponse`` commits when its last chunk has been produced, and discards
  if the stream fails or is closed early;
- an exception, a 4xx or a 5xx discards: nothing is sent, and the visitor is exposed on
  the next page that does render.

Works under WSGI and ASGI, with sync and async views.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)

from mixtrack.web import MAX_ENDPOINT_BODY, Endpoint, serve_endpoint
from mixtrack_django._runtime import get_mixtrack
from mixtrack_django.request import RequestTracker

__all__ = ["MixtrackMiddleware"]


def _delivered(response: HttpResponseBase) -> bool:
    return response.status_code < 400


class _Watch:
    """What both stream wrappers share: settle the request's tracker exactly once."""

    def __init__(self, tracker: RequestTracker) -> None:
        self._tracker = tracker
        self._done = False

    def _finish(self, *, ok: bool) -> None:
        if not self._done:
            self._done = True
            self._tracker.settle(ok)

    def close(self) -> None:
        # Django calls this from response.close(), after the server sent what it got;
        # a stream that ended normally has already committed.
        self._finish(ok=False)


class _WatchedStream(_Watch):
    """Wraps a sync streaming body: commit after the last chunk, discard if it stops early."""

    def __init__(self, chunks: Iterator[Any], tracker: RequestTracker) -> None:
        super().__init__(tracker)
        self._chunks = chunks

    def __iter__(self) -> _WatchedStream:
        return self

    def __next__(self) -> Any:
        try:
            with self._tracker.bound():
                return next(self._chunks)
        except StopIteration:
            self._finish(ok=True)
            raise
        except BaseException:
            self._finish(ok=False)
            raise


class _WatchedAsyncStream(_Watch):
    """The async twin of :class:`_WatchedStream`."""

    def __init__(self, chunks: AsyncIterator[Any], tracker: RequestTracker) -> None:
        super().__init__(tracker)
        self._chunks = chunks

    def __aiter__(self) -> _WatchedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            with self._tracker.bound():
                return await self._chunks.__anext__()
        except StopAsyncIteration:
            self._finish(ok=True)
            raise
        except BaseException:
            self._finish(ok=False)
            raise


class MixtrackMiddleware:
    """Identify the visitor, hold the request's exposures, send them once the page is shown.

    Sync and async capable: Django runs it in the mode of the surrounding stack, so an
    async view under ASGI never switches threads for it.

    >>> MIDDLEWARE = [..., "mixtrack_django.middleware.MixtrackMiddleware"]  # doctest: +SKIP
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        tracker = self._begin(request)
        endpoint = tracker.app.endpoints.match(request.method or "GET", request.path)
        if endpoint is not None:
            return self._serve(request, tracker, endpoint)
        try:
            with tracker.bound():
                response = self.get_response(request)
        except BaseException:
            tracker.discard()
            raise
        return self._finish(request, tracker, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        tracker = self._begin(request)
        auser: Callable[[], Awaitable[Any]] | None = getattr(request, "auser", None)
        if auser is not None:
            # Resolve the user here: reading request.user from async code would query
            # the session database synchronously.
            tracker.use_user(await auser())
        endpoint = tracker.app.endpoints.match(request.method or "GET", request.path)
        if endpoint is not None:
            return await sync_to_async(self._serve)(request, tracker, endpoint)
        try:
            with tracker.bound():
                response = await self.get_response(request)
        except BaseException:
            tracker.discard()
            raise
        return self._finish(request, tracker, response)

    # -- steps shared by both modes ------------------------------------------------------

    def _begin(self, request: HttpRequest) -> RequestTracker:
        tracker = RequestTracker(get_mixtrack(), request)
        request.mixtrack = tracker  # type: ignore[attr-defined]
        return tracker

    def _serve(
        self, request: HttpRequest, tracker: RequestTracker, endpoint: Endpoint
    ) -> HttpResponseBase:
        # Never request.body: it reads the whole upload before anyone can refuse it.
        answer = serve_endpoint(tracker, endpoint, request.read(MAX_ENDPOINT_BODY + 1))
        response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        for name, value in answer.headers:
            response[name] = value
        self._set_cookie(request, tracker, response)
        return response

    def _finish(
        self, request: HttpRequest, tracker: RequestTracker, response: HttpResponseBase
    ) -> HttpResponseBase:
        streamed = isinstance(response, StreamingHttpResponse) and not isinstance(
            response, FileResponse
        )
        if streamed and _delivered(response):
            # The body renders after the headers are sent: fix the device id now, so a
            # new visitor still gets the cookie that names it.
            tracker.device_id  # noqa: B018
        self._set_cookie(request, tracker, response)
        if not _delivered(response):
            tracker.discard()
        elif isinstance(response, StreamingHttpResponse) and streamed:
            if response.is_async:
                response.streaming_content = _WatchedAsyncStream(
                    aiter(response.streaming_content), tracker
                )
            else:
                response.streaming_content = _WatchedStream(
                    iter(response.streaming_content), tracker
                )
        else:
            # A TemplateResponse was rendered inside get_response(), before it got here.
            tracker.commit()
        return response

    def _set_cookie(
        self, request: HttpRequest, tracker: RequestTracker, response: HttpResponseBase
    ) -> None:
        for cookie in tracker.response_cookies():
            cookie.set_on(response.set_cookie)
