"""The boundary between mixtrack and the network: one small protocol, two implementations.

A transport sends one :class:`Request` and returns one :class:`Response`, or raises
:class:`mixtrack.TransportError` when no HTTP answer came back. It knows nothing of batching,
retries or Mixpanel; tests replace it (``mixtrack.testing.InMemoryTransport``, or
``HttpxTransport(client=httpx.Client(transport=httpx.MockTransport(handler)))``).

>>> class Recorder:
...     def send(self, request: Request) -> Response:
...         print(request.method, request.url)
...         return Response(200, {}, b"1")
...     def close(self) -> None:
...         pass
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mixtrack.transport._base import Request, Response
from mixtrack.transport._httpx import AsyncHttpxTransport, HttpxTransport

__all__ = [
    "AsyncHttpxTransport",
    "AsyncTransport",
    "HttpxTransport",
    "Request",
    "RequestsTransport",
    "Response",
    "Transport",
]


@runtime_checkable
class Transport(Protocol):
    """Sends one request; thread-safe; raises ``TransportError`` when there is no answer."""

    def send(self, request: Request) -> Response: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncTransport(Protocol):
    """The asyncio twin of :class:`Transport`, used by ``mixtrack.AsyncClient``."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


def __getattr__(name: str) -> object:
    # requests is an optional extra: import it only when asked for.
    if name == "RequestsTransport":
        from mixtrack.transport._requests import RequestsTransport

        return RequestsTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
