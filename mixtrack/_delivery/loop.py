"""Delivery on an event loop: a thin asyncio loop that drives the same sender as the threads.

One :class:`LoopWorker` belongs to one running loop. Its task takes batches from the shared
:class:`~mixtrack._delivery.queue.MessageQueue` without blocking (``take_nowait``), keeps up to
``max_in_flight`` deliveries going, and sleeps on an :class:`asyncio.Event` until a batch
fills up, a flush is asked for, a delivery ends or the flush interval ticks. Every decision
(what to send, how to read the answer, when to retry) is the sender's
(:mod:`mixtrack._delivery.sender`), shared with the thread worker and the importer.

When its loop ends (``asyncio.run`` returning cancels every task), deliveries under way hand
their unsettled records back to the queue, so that the next loop sends them: the stable
``$insert_id`` makes a resend harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable

from mixtrack._delivery.outcomes import Delivery, Outcomes
from mixtrack._delivery.queue import Batch
from mixtrack._delivery.sender import DONE, Retrying, Send, Sender, Settled, Wait
from mixtrack.errors import TransportError
from mixtrack.transport import AsyncTransport

__all__ = ["OFFLOAD_BYTES", "LoopWorker", "drive_async"]

log = logging.getLogger("mixtrack")


#: Batches bigger than this are joined and compressed in a thread: gzip of a 2000-event batch
#: takes milliseconds of CPU that the loop should not wait for.
OFFLOAD_BYTES = 64 * 1024


class _Stopped(Exception):
    """The shutdown deadline came during a wait: the delivery ends (shutdown books it)."""


async def drive_async(
    sender: Sender,
    transport: Callable[[], AsyncTransport],
    wait: Callable[[float], object],
    book: Callable[[Send | Settled | Retrying], None],
) -> None:
    """The asyncio twin of :func:`mixtrack._delivery.threads.drive` (``wait`` is a coroutine
    function; cancelling the task stops the delivery)."""
    try:
        while True:
            if sender.encoding_cost() > OFFLOAD_BYTES:
                event = await asyncio.to_thread(sender.next_event)
            else:
                event = sender.next_event()
            if event is DONE:
                return
            if isinstance(event, Send):
                book(event)
                try:
                    response = await transport().send(event.request)
                except TransportError as exc:
                    sender.fail(exc)
                    continue
                sender.receive(response)
            elif isinstance(event, Wait):
                await wait(event.seconds)  # type: ignore[misc]
            else:
                assert isinstance(event, (Settled, Retrying))
                book(event)
    except BaseException:
        sender.abandon()
        raise


class LoopWorker:
    """The delivery task of one client on one running event loop (create it inside the loop)."""

    def __init__(
        self,
        delivery: Delivery,
        transport: Callable[[], AsyncTransport],
        release_transport: Callable[[], AsyncTransport | None],
    ) -> None:
        self.delivery = delivery
        self.config = delivery.config
        self.queue = delivery.queue
        self.loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        #: the client's transport (made on first use), and how to let go of it when the
        #: task ends: a transport the client made belongs to this loop and is closed with it
        self._http = transport
        self._release_transport = release_transport
        self._outcomes = Outcomes(delivery.queue, delivery.report_drops)
        self.wake = asyncio.Event()  # the task: something may be due
        self.progress = asyncio.Event()  # flush() and aclose(): something settled
        self._nudge = asyncio.Event()  # waiting senders: the circuit closed, a deadline came
        self._stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._unsubscribe = delivery.subscribe(lambda: self.call_threadsafe(self._nudge.set))

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
        """Ends every backoff wait: the shutdown deadline has come (any thread)."""
        self.call_threadsafe(self._stop.set)
        self.call_threadsafe(self._nudge.set)

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
            self._unsubscribe()
            self.progress.set()
            transport = self._release_transport()
            if transport is not None:
                try:
                    await asyncio.wait_for(transport.aclose(), 0.5)
                except (Exception, asyncio.CancelledError):
                    log.debug("error closing the HTTP client", exc_info=True)

    async def _deliver(self, batch: Batch) -> None:
        sender = self.delivery.sender(batch)

        def book(event: Send | Settled | Retrying) -> None:
            self._outcomes(batch, event)
            if isinstance(event, Settled):
                self.progress.set()

        try:
            await drive_async(sender, self._http, self._wait, book)
        except _Stopped:
            return
        except asyncio.CancelledError:
            self.queue.give_back(batch, list(batch.remaining))
            raise
        except Exception as exc:  # a bug must not kill the task or lose the books
            log.exception("unexpected error delivering a batch")
            for start, stop in list(batch.remaining):
                self._outcomes.dropped(batch, start, stop, "internal error", repr(exc))
        self.progress.set()

    async def _wait(self, seconds: float) -> None:
        if self._stop.is_set():
            raise _Stopped
        self._nudge.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._nudge.wait(), seconds)
        if self._stop.is_set() or self.queue.closed:
            raise _Stopped
