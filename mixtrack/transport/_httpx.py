"""The default transports, on httpx: a keep-alive connection pool, sync and async.

Each attempt is bounded twice, whatever the collector does:

- in wall-clock time by ``Request.timeout``: httpx's timeouts bound each socket operation,
  so a collector answering one byte a second would hold an attempt for as long as it
  likes. The thread transport gives every socket read and write only the time left before
  the attempt's deadline; the asyncio transport cancels the attempt at its deadline.
- in memory by :data:`MAX_ANSWER_BYTES`: the answer's body is read up to that many bytes
  (a collector's answer is a few bytes, a per-record error list at most a few hundred KiB)
  and the connection is dropped after, so a huge answer cannot swell the process.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

import httpcore
import httpx

from mixtrack.errors import TransportError
from mixtrack.transport._base import Request, Response

__all__ = ["MAX_ANSWER_BYTES", "AsyncHttpxTransport", "HttpxTransport"]

#: The most of an answer's body that is read; the rest is left unread and the connection
#: closed (``Response.body`` then holds the first ``MAX_ANSWER_BYTES``).
MAX_ANSWER_BYTES = 1024 * 1024

#: The monotonic deadline of the attempt this thread (or task) is making.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "mixtrack_attempt_deadline", default=None
)


def _limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)


def _error(exc: httpx.TransportError, url: str) -> TransportError:
    kind = type(exc).__name__
    return TransportError(
        f"{kind} talking to {url}: {exc}", timeout=isinstance(exc, httpx.TimeoutException)
    )


def _timeout_error(request: Request) -> TransportError:
    return TransportError(
        f"no complete answer from {request.url} within request_timeout={request.timeout:g}s",
        timeout=True,
    )


def _headers(r: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in r.headers.items()}


def _keep(body: bytearray, chunk: bytes) -> bool:
    """Adds what fits of ``chunk`` to an answer's ``body``; False once it is full."""
    body += chunk[: MAX_ANSWER_BYTES - len(body)]
    return len(body) < MAX_ANSWER_BYTES


def _left(timeout: float | None, exc: type[Exception]) -> float | None:
    """``timeout`` cut to the time left before the attempt's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("the attempt's request_timeout has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write ends by the attempt's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sockets, wrapped in :class:`_DeadlineStream`."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _pooled_client(max_connections: int, verify: bool) -> httpx.Client:
    """An ``httpx.Client`` whose connections keep each attempt's deadline."""
    limits = _limits(max_connections)
    transport = httpx.HTTPTransport(verify=verify, limits=limits)
    # httpx builds its pool without a way to pass the network backend: the same pool,
    # with it (direct connections only; a proxy from the environment keeps httpx's own)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_DeadlineBackend(),
    )
    return httpx.Client(transport=transport, limits=limits, verify=verify)


class HttpxTransport:
    """Sends requests through one ``httpx.Client`` (thread-safe, pooled, keep-alive).

    Pass ``client=`` to bring your own, for example one on ``httpx.MockTransport`` in tests.

    >>> transport = HttpxTransport(max_connections=4)
    >>> transport.close()
    """

    def __init__(
        self, *, client: httpx.Client | None = None, max_connections: int = 8, verify: bool = True
    ) -> None:
        self._client = client or _pooled_client(max_connections, verify)

    def send(self, request: Request) -> Response:
        token = _deadline.set(time.monotonic() + request.timeout)
        try:
            with self._client.stream(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.body,
                timeout=request.timeout,
            ) as r:
                body = bytearray()
                for chunk in r.iter_bytes():
                    if not _keep(body, chunk):
                        break
                return Response(r.status_code, _headers(r), bytes(body))
        except httpx.TransportError as exc:
            raise _error(exc, request.url) from exc
        finally:
            _deadline.reset(token)

    def close(self) -> None:
        self._client.close()


class AsyncHttpxTransport:
    """The asyncio transport, on one ``httpx.AsyncClient``.

    >>> transport = AsyncHttpxTransport(max_connections=4)
    """

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
            return await asyncio.wait_for(self._send(request), request.timeout)
        except asyncio.TimeoutError:
            raise _timeout_error(request) from None
        except httpx.TransportError as exc:
            raise _error(exc, request.url) from exc

    async def _send(self, request: Request) -> Response:
        async with self._client.stream(
            request.method,
            request.url,
            headers=dict(request.headers),
            content=request.body,
            timeout=request.timeout,
        ) as r:
            body = bytearray()
            async for chunk in r.aiter_bytes():
                if not _keep(body, chunk):
                    break
            return Response(r.status_code, _headers(r), bytes(body))

    async def aclose(self) -> None:
        await self._client.aclose()
