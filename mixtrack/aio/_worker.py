"""Delivery on an event loop: the asyncio twin of :mod:`mixtrack._worker`.

One :class:`LoopWorker` belongs to one running loop. Its task takes batches from the shared
:class:`~mixtrack._queue.MessageQueue` without blocking (``take_nowait``), keeps up to
``max_in_flight`` deliveries going, and sleeps on an :class:`asyncio.Event` until a batch
fills up, a flush is asked for, a delivery ends or the flush interval ticks. The decisions
(what to send, how to read the answer, when to retry) are the pure ones of ``_wire`` and
``_retry``, shared with the thread worker.

When its loop ends (``asyncio.run`` returning cancels every task), deliveries under way hand
their unsettled messages back to the queue, so that the next loop sends them: the stable
``$insert_id`` makes a resend harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import tenacity

from mixtrack._config import Config
from mixtrack._delivery import Abandoned, Outcomes, array_of, exhausted, serialized_runs
from mixtrack._queue import Batch, Dropped, Item, MessageQueue
from mixtrack._retry import RetryableAnswer, retry_policy
from mixtrack._wire import Answer, Route, encode_request, read_answer
from mixtrack.errors import TransportError
from mixtrack.transport import AsyncHttpxTransport, AsyncTransport, Request

__all__ = ["OFFLOAD_BYTES", "LoopWorker"]

log = logging.getLogger("mixtrack")

#: Batches bigger than this (estimated JSON bytes) are serialized, compressed and encoded in a
#: thread: a 2000-event batch takes milliseconds of CPU that the loop should not wait for.
OFFLOAD_BYTES = 64 * 1024


class LoopWorker:
    """The delivery task of one client on one running event loop (create it inside the loop)."""

    def __init__(
        self,
        config: Config,
        queue: MessageQueue,
        transport: AsyncTransport | None,
        report_drops: Callable[[Dropped], None],
        deadline: Callable[[], float | None],
    ) -> None:
        self.config = config
        self.queue = queue
        self.loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._transport = transport
        self._own_transport = transport is None
        self._outcomes = Outcomes(queue, report_drops)
        self.wake = asyncio.Event()  # the task: something may be due
        self.progress = asyncio.Event()  # flush() and aclose(): something settled
        self._stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._policy = retry_policy(config, deadline=deadline, on_retry=self._outcomes.retrying)

    # -- lifecycle (call on the loop's thread unless the name says otherwise) -------------

    @property
    def idle(self) -> bool:
        """No task running: none started yet, or it ended (closed queue, or loop shut down)."""
        return self.task is None or self.task.done()

    def start(self) -> None:
        if self.idle and not self.queue.closed and not self.loop.is_closed():
            self.task = self.loop.create_task(self._run(), name="mixtrack-delivery")

    def call_threadsafe(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` on the loop: now when already on its thread, else soon."""
        if threading.get_ident() == self._thread:
            callback()
            return
        # RuntimeError: the loop is closed; the next loop takes the work over
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(callback)

    def poke(self) -> None:
        """Wakes the task (from any thread)."""
        self.call_threadsafe(self.wake.set)

    def stop(self) -> None:
        """Cuts short every backoff wait: the shutdown deadline has come (any thread)."""
        self.call_threadsafe(self._stop.set)

    async def finish(self, deadline: float) -> None:
        """Waits for the task until ``deadline``, then cancels it (a hung request)."""
        task = self.task
        if task is None or task.done():
            return
        remaining = deadline - time.monotonic()
        if remaining > 0:
            await asyncio.wait({task}, timeout=remaining)
        if not task.done():
            task.cancel()
            # cancelling an HTTP request is prompt; never let closing stretch the deadline
            await asyncio.wait({task}, timeout=0.1)

    # -- the task ------------------------------------------------------------------------

    async def _run(self) -> None:
        deliveries: set[asyncio.Task[None]] = set()

        def ended(task: asyncio.Task[None]) -> None:
            deliveries.discard(task)
            self.wake.set()

        try:
            while True:
                self.wake.clear()
                timeout: float | None = None
                if len(deliveries) < self.config.max_in_flight:
                    due = self.queue.take_nowait()
                    if due is None:
                        break
                    if isinstance(due, Batch):
                        delivery = self.loop.create_task(self._deliver(due))
                        deliveries.add(delivery)
                        delivery.add_done_callback(ended)
                        continue
                    timeout = due
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout)
            if deliveries:
                await asyncio.gather(*deliveries)
        except asyncio.CancelledError:
            for delivery in deliveries:
                delivery.cancel()
            await asyncio.gather(*deliveries, return_exceptions=True)
            raise
        finally:
            self.progress.set()
            if self._own_transport and self._transport is not None:
                transport, self._transport = self._transport, None
                try:
                    await asyncio.wait_for(transport.aclose(), 0.5)
                except (Exception, asyncio.CancelledError):
                    log.debug("mixtrack: error closing the HTTP client", exc_info=True)

    async def _deliver(self, batch: Batch) -> None:
        done: set[int] = set()  # sequence numbers settled so far
        try:
            items = batch.items
            if sum(item[2] for item in items) > OFFLOAD_BYTES:
                runs = await asyncio.to_thread(serialized_runs, self.config, items)
            else:
                runs = serialized_runs(self.config, items)
            for run_items, body in runs:
                await self._send(batch, run_items, body, done)
        except asyncio.CancelledError:
            self.queue.give_back(batch, [item for item in batch.items if item[0] not in done])
            raise
        except Exception as exc:  # a bug must not kill the task or lose the books
            log.exception("mixtrack: unexpected error delivering a batch")
            left = [item for item in batch.items if item[0] not in done]
            self._booked(
                left, done, self._outcomes.dropped, batch, left, f"internal error: {exc!r}"
            )

    async def _send(self, batch: Batch, items: Sequence[Item], body: bytes, done: set[int]) -> None:
        if len(body) > OFFLOAD_BYTES:
            request = await asyncio.to_thread(encode_request, self.config, batch.route, body)
        else:
            request = encode_request(self.config, batch.route, body)
        retrying = tenacity.AsyncRetrying(sleep=self._sleep, **self._policy)  # type: ignore[arg-type]
        try:
            answer: Answer = await retrying(self._attempt, batch.route, request, len(items))
        except (RetryableAnswer, TransportError, Abandoned) as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            error = str(exhausted(batch, len(items), attempts, exc))
            self._booked(items, done, self._outcomes.dropped, batch, items, error)
            return
        if answer.verdict == "accepted":
            self._booked(items, done, self._outcomes.accepted, batch, items)
        elif answer.verdict == "split":
            half = len(items) // 2
            for part in (items[:half], items[half:]):
                await self._send(batch, part, array_of(part), done)
        else:
            self._booked(items, done, self._outcomes.refused, batch, items, answer)

    async def _attempt(self, route: Route, request: Request, size: int) -> Answer:
        if self._stop.is_set():
            raise Abandoned("shutdown deadline passed")
        if self._transport is None:
            self._transport = AsyncHttpxTransport(
                max_connections=self.config.max_in_flight, verify=self.config.verify_tls
            )
        self.queue.record_request(len(request.body))
        response = await self._transport.send(request)
        answer = read_answer(route, response, size)
        if answer.verdict == "retry":
            raise RetryableAnswer(answer)
        return answer

    # -- booking -------------------------------------------------------------------------

    def _booked(
        self, items: Sequence[Item], done: set[int], book: Callable[..., None], *args: Any
    ) -> None:
        """Books an outcome (an :class:`Outcomes` method) and remembers the items as settled."""
        book(*args)
        done.update(item[0] for item in items)
        self.progress.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
