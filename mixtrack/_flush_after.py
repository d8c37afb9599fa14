"""``client.flush_after(timeout=...)``: what a handler tracked is delivered before it returns.

The client delivers in the background and drains at interpreter exit, which covers long-lived
processes. It does not cover a process that is frozen once its handler returns (serverless
functions), killed right after (scripts under a supervisor), or ended with ``os._exit`` (forked
job runners). There the handler itself must wait for delivery, bounded in time: that is this
module. It also settles every client of a process on its way out, for the job integrations.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol, TypeVar

from mixtrack import _lifecycle
from mixtrack._delivery.results import FlushResult
from mixtrack._delivery.stats import Stats
from mixtrack.errors import ConfigError

__all__ = [
    "AsyncFlushAfter",
    "FlushAfter",
    "Settling",
    "report_unsettled",
    "settle_client",
    "settle_process_clients",
]

log = logging.getLogger("mixtrack")

F = TypeVar("F", bound=Callable[..., Any])


class _SyncFlushing(Protocol):
    def flush(self, timeout: float = ...) -> object: ...

    def stats(self) -> Stats: ...


class _AsyncFlushing(Protocol):
    def flush(self, timeout: float = ...) -> Awaitable[object]: ...

    def stats(self) -> Stats: ...


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigError(
            f"flush_after timeout must be a positive number of seconds, got {timeout!r}"
        )
    return float(timeout)


def report_unsettled(
    client: _SyncFlushing | _AsyncFlushing, settled: object, timeout: float
) -> None:
    # flush() is truthy only when everything was accepted; anything else is worth a line in
    # the log, because the process may be gone before the rest is delivered.
    if not settled:
        # the flush's own window when it says so; the client's totals otherwise
        stats = settled if isinstance(settled, FlushResult) else client.stats()
        log.warning(
            "flush_after(timeout=%.1fs): not everything tracked was accepted before "
            "returning (pending=%d, dropped=%d, rejected=%d); see client.stats()",
            timeout,
            stats.pending,
            stats.dropped,
            stats.rejected,
        )


class FlushAfter:
    """Flushes a :class:`~mixtrack.Client` when the wrapped code returns or raises.

    Made by :meth:`mixtrack.Client.flush_after`; use it as a decorator or a ``with`` block.
    When the handler ends, everything tracked so far is delivered within ``timeout`` seconds
    before control goes back, so a process frozen or ended with ``os._exit`` right after loses
    nothing. The handler's return value and exceptions pass through unchanged.

    >>> @client.flush_after(timeout=2.0)  # doctest: +SKIP
    ... def handler(event, context):
    ...     client.track(event["user"], "Invoked")
    >>> with client.flush_after(timeout=2.0):  # doctest: +SKIP
    ...     client.track("user-42", "Script ran")

    An ``async def`` handler works too: the flush then waits in a thread, not on the loop.
    """

    def __init__(self, client: _SyncFlushing, timeout: float) -> None:
        self.client = client
        self.timeout = _check_timeout(timeout)

    def flush(self) -> None:
        """Waits up to ``timeout`` seconds for delivery; logs a warning if not all of it was."""
        report_unsettled(self.client, self.client.flush(timeout=self.timeout), self.timeout)

    def __enter__(self) -> FlushAfter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await func(*args, **kwargs)
                finally:
                    await asyncio.to_thread(self.flush)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]


class AsyncFlushAfter:
    """Flushes a :class:`~mixtrack.AsyncClient` when the wrapped coroutine returns or raises.

    Made by :meth:`mixtrack.AsyncClient.flush_after`; use it on an ``async def`` handler or
    as an ``async with`` block. Delivery is awaited on the running loop, within ``timeout``.

    >>> @client.flush_after(timeout=2.0)  # doctest: +SKIP
    ... async def handler(event, context):
    ...     client.track(event["user"], "Invoked")
    >>> async with client.flush_after(timeout=2.0):  # doctest: +SKIP
    ...     client.track("user-42", "Job ran")
    """

    def __init__(self, client: _AsyncFlushing, timeout: float) -> None:
        self.client = client
        self.timeout = _check_timeout(timeout)

    async def flush(self) -> None:
        """Waits up to ``timeout`` seconds for delivery; logs a warning if not all of it was."""
        report_unsettled(self.client, await self.client.flush(timeout=self.timeout), self.timeout)

    async def __aenter__(self) -> AsyncFlushAfter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.flush()

    def __enter__(self) -> None:
        raise ConfigError(
            "AsyncClient.flush_after() needs `async with`; in synchronous code use a "
            "mixtrack.Client, or run the async code with asyncio.run()"
        )

    def __exit__(self, *exc_info: object) -> None:  # pragma: no cover - __enter__ refuses
        return None

    def __call__(self, func: F) -> F:
        if not inspect.iscoroutinefunction(func):
            raise ConfigError(
                f"AsyncClient.flush_after() decorates `async def` functions, got {func!r}; "
                "for a plain function use a mixtrack.Client's flush_after()"
            )

        @functools.wraps(func)
        async def run(*args: Any, **kwargs: Any) -> Any:
            async with self:
                return await func(*args, **kwargs)

        return run  # type: ignore[return-value]


class Settling(Protocol):
    """What a client says about settling itself (each waits in its own way)."""

    def _settle(self, *, closing: bool) -> None: ...


def settle_client(client: Settling, *, closing: bool) -> None:
    """Delivers what ``client`` (a Client or an AsyncClient) holds within its
    ``shutdown_timeout``; with ``closing=True`` it is shut down as at exit (what is left is
    counted as dropped and logged). Never raises: trouble is logged.

    >>> settle_client(client, closing=True)  # a forked child about to os._exit  # doctest: +SKIP
    """
    try:
        client._settle(closing=closing)
    except Exception:  # a failure here must not stop the process's own shutdown
        log.exception("error settling %r", client)


def settle_process_clients(*, closing: bool) -> None:
    """:func:`settle_client` for every live client of this process, for processes that end
    without running atexit (``os._exit`` after a fork) and for job runners between jobs.

    >>> settle_process_clients(closing=True)  # doctest: +SKIP
    """
    for client in list(_lifecycle._live):
        settle_client(client, closing=closing)
