"""``mixtrack.AsyncClient``: the asyncio client. Calls return at once; a task delivers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from types import TracebackType
from typing import Any

from mixtrack._base import BaseClient, State
from mixtrack._config import Config
from mixtrack._delivery.loop import LoopWorker
from mixtrack._delivery.queue import Mark
from mixtrack._delivery.results import FlushResult
from mixtrack._flush_after import AsyncFlushAfter, report_unsettled
from mixtrack.errors import ConfigError
from mixtrack.transport import AsyncHttpxTransport, AsyncTransport

__all__ = ["AsyncClient"]

log = logging.getLogger("mixtrack")


class AsyncClient(BaseClient[AsyncTransport]):
    """The asyncio client, for FastAPI, Starlette, aiohttp and other asyncio apps.

    It has every call of :class:`~mixtrack.Client` (``track``, ``identify``, ``people_set``...)
    and they stay plain, non-blocking calls, usable from any coroutine and from other threads.
    Delivery runs in one background task on the running event loop, over ``httpx.AsyncClient``;
    large batches are serialized and compressed in a thread, so the loop never waits on them.

    >>> async def main():
    ...     async with mixtrack.AsyncClient("PROJECT_TOKEN") as client:
    ...         client.track("user-42", "Signed up", {"plan": "pro"})
    ...         await client.flush(timeout=5.0)
    >>> asyncio.run(main())  # doctest: +SKIP

    The client may be created before any loop runs (at import time) and survives
    ``asyncio.run`` being called several times: the task and its connections belong to the
    loop that is running when a call is made, and are made again for the next loop; what one
    loop left undelivered is sent by the next (or drained at interpreter exit).
    It takes every option of :class:`~mixtrack.Client`, ``spool_dir`` included (each
    ``track()`` then writes one record to disk before it returns), except
    ``overflow="block"``.
    ``transport=`` takes any :class:`~mixtrack.transport.AsyncTransport`, for example
    ``AsyncHttpxTransport(client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))``.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        config: Config | None = None,
        transport: AsyncTransport | None = None,
        **options: Any,
    ) -> None:
        self._closing: asyncio.Future[FlushResult] | None = None
        super().__init__(token, config, options, transport)

    def _check_config(self, config: Config) -> None:
        if config.overflow == "block":
            raise ConfigError(
                "AsyncClient cannot use overflow='block': waiting for room would block the "
                "event loop that frees it; use 'drop_newest' or 'drop_oldest'"
            )

    @classmethod
    def from_env(cls, *, transport: AsyncTransport | None = None, **overrides: Any) -> AsyncClient:
        """A client configured from ``MIXTRACK_*`` environment variables (keywords win).

        >>> client = mixtrack.AsyncClient.from_env()  # needs MIXTRACK_TOKEN  # doctest: +SKIP
        """
        return cls(config=Config.from_env(**overrides), transport=transport)

    def _build(self) -> None:
        self._worker: LoopWorker | None = None
        super()._build()
        self._queue.on_ready = self._on_ready

    # -- calls ---------------------------------------------------------------------------

    def _new_transport(self) -> AsyncTransport:
        return AsyncHttpxTransport(
            max_connections=self.config.max_in_flight, verify=self.config.verify_tls
        )

    def _kick(self) -> None:
        worker = self._worker
        if worker is None or worker.idle:
            self._bind()

    def _on_ready(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.poke()

    def _bind(self) -> LoopWorker | None:
        """The worker of the running loop, started (or made anew for a new loop); None when
        no loop runs in this thread (the call then leaves the messages to the loop's task)."""
        worker = self._worker
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if worker is not None:
                worker.call_threadsafe(worker.start)
            return None
        if worker is None or worker.loop is not loop:
            if worker is not None and worker.loop.is_running() and not worker.loop.is_closed():
                # another loop, in another thread, is delivering: leave it the work
                worker.call_threadsafe(worker.start)
                return None
            worker = self._worker = LoopWorker(self._delivery, self._http, self._drop_own_transport)
        worker.start()
        return worker

    # -- lifecycle -----------------------------------------------------------------------

    async def flush(self, timeout: float = 5.0) -> FlushResult:
        """Waits until everything enqueued so far is settled (sent, rejected or dropped), at
        most ``timeout`` seconds; never raises on I/O. The :class:`~mixtrack.FlushResult` is
        truthy only when all of it was accepted, as with :meth:`mixtrack.Client.flush`.

        >>> if not await client.flush(timeout=2.0):  # doctest: +SKIP
        ...     print("not everything was accepted")
        """
        deadline, at_call, mark = self._begin_flush(timeout)
        # binds delivery to the running loop (integrations rely on it); a disabled client
        # starts no task
        worker = None if self.config.disabled else self._bind()
        if worker is not None:
            worker.poke()
        try:
            settled = await self._wait_settled(mark, deadline, worker)
        finally:  # returned or cancelled, the flush's deadline stops cutting retry waits
            self._deadline.done(deadline)
        return self._result(at_call, settled)

    async def _wait_settled(self, target: Mark, deadline: float, worker: LoopWorker | None) -> bool:
        queue = self._queue
        while not queue.is_settled(target):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if worker is None or worker.idle:
                # delivered on another thread's loop, or about to be: look again shortly
                await asyncio.sleep(min(remaining, 0.02))
                continue
            worker.progress.clear()
            if queue.is_settled(target):
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(worker.progress.wait(), remaining)
        return True

    def flush_after(self, timeout: float = 5.0) -> AsyncFlushAfter:
        """An async decorator and ``async with`` block that flushes when the wrapped coroutine
        returns or raises, so a serverless handler loses nothing when it is frozen right after;
        see :class:`~mixtrack.AsyncFlushAfter`.

        >>> @client.flush_after(timeout=2.0)  # doctest: +SKIP
        ... async def handler(event, context):
        ...     client.track(event["user"], "Invoked")
        """
        return AsyncFlushAfter(self, timeout)

    async def aclose(self, timeout: float | None = None) -> FlushResult:
        """Delivers what is queued within ``timeout`` (default ``config.shutdown_timeout``)
        seconds and stops; what is left is counted as dropped. Returns a
        :class:`~mixtrack.FlushResult`, truthy when everything since the last ``flush()``
        was accepted. Later calls return the first result; a call made while another
        ``aclose()`` is under way waits for it at most ``timeout`` seconds too.

        >>> await client.aclose(timeout=1.0)  # doctest: +SKIP
        FlushResult(sent=3, rejected=0, dropped=0, pending=0, invalid=0)
        """
        if self._closed_result is not None:
            return self._closed_result
        if self._closing is not None:
            try:
                return await asyncio.wait_for(asyncio.shield(self._closing), self._budget(timeout))
            except asyncio.TimeoutError:
                return self._close_under_way()
        self._closing = asyncio.get_running_loop().create_future()
        try:
            result = await self._aclose(timeout)
        except BaseException as exc:
            self._closing.set_exception(exc)
            self._closing.exception()  # retrieved: only the caller reports it
            self._closing = None
            self._state = State.OPEN  # not closed: a later aclose() (or the exit) tries again
            raise
        self._closing.set_result(result)
        return result

    async def _aclose(self, timeout: float | None) -> FlushResult:
        deadline, at_call, target = self._begin_close(timeout)
        worker = self._worker if self.config.disabled else self._bind()
        if worker is not None:
            worker.poke()
        delivered = await self._wait_settled(target, deadline, worker)
        dropped = self._queue.close()
        worker = self._worker
        if worker is not None:
            worker.stop()
            if worker.loop is asyncio.get_running_loop():
                await worker.finish(deadline)
        if self._transport is not None and (worker is None or worker.idle):
            try:
                await asyncio.wait_for(self._transport.aclose(), 0.1)
            except (Exception, asyncio.TimeoutError):
                log.debug("error closing the transport", exc_info=True)
        return self._end_close(at_call, delivered, dropped)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _forget_delivery(self) -> None:
        # the parent's loop, task and connections are not the child's
        self._closing = None

    def _settle(self, *, closing: bool) -> None:
        """Settles from synchronous code (a job runner, a forked child): on a loop of its
        own, since none may run in this thread."""
        if not self.stats().pending:
            return  # nothing to deliver: no need for a loop of its own
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            log.warning(
                "an AsyncClient cannot be settled from inside a running event loop; "
                "await client.flush() in the coroutine instead"
            )
            return
        budget = self.config.shutdown_timeout
        if closing:
            asyncio.run(self.aclose(budget))
        else:
            report_unsettled(self, asyncio.run(self.flush(timeout=budget)), budget)

    def _close_at_exit(self) -> None:
        self._worker = None  # its loop is gone or belongs to another thread
        asyncio.run(self.aclose())
