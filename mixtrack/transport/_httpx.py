"""The default transports, on httpx: a keep-alive connection pool, sync and async."""

from __future__ import annotations

import httpx

from mixtrack.errors import TransportError
from mixtrack.transport._base import Request, Response

__all__ = ["AsyncHttpxTransport", "HttpxTransport"]


def _limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)


def _response(r: httpx.Response) -> Response:
    return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)


def _error(exc: httpx.TransportError, url: str) -> TransportError:
    kind = type(exc).__name__
    return TransportError(
        f"{kind} talking to {url}: {exc}", timeout=isinstance(exc, httpx.TimeoutException)
    )


class HttpxTransport:
    """Sends requests through one ``httpx.Client`` (thread-safe, pooled, keep-alive).

    Pass ``client=`` to bring your own, for example one on ``httpx.MockTransport`` in tests.
    """

    def __init__(
        self, *, client: httpx.Client | None = None, max_connections: int = 8, verify: bool = True
    ) -> None:
        self._client = client or httpx.Client(limits=_limits(max_connections), verify=verify)

    def send(self, request: Request) -> Response:
        try:
            r = self._client.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.body,
                timeout=request.timeout,
            )
        except httpx.TransportError as exc:
            raise _error(exc, request.url) from exc
        return _response(r)

    def close(self) -> None:
        self._client.close()


class AsyncHttpxTransport:
    """The asyncio transport, on one ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        max_connections: int = 8,
        verify: bool = True,
    ) -> None:
        self._client = client or httpx.AsyncClient(limits=_limits(max_connections), verify=verify)

    async def send(self, request: Request) -> Response:
        try:
            r = await self._client.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.body,
                timeout=request.timeout,
            )
        except httpx.TransportError as exc:
            raise _error(exc, request.url) from exc
        return _response(r)

    async def aclose(self) -> None:
        await self._client.aclose()
