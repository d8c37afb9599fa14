"""The delivery threads: a thin loop that drives the sender over a blocking transport.

``max_in_flight`` threads share one :class:`~mixtrack._delivery.queue.MessageQueue`, so that many
requests are in flight at once and a distant collector's latency does not cap throughput.
The threads start on the first message (not at import or construction, which keeps a
pre-fork server's master process free of threads) and are daemons: a hung collector can
never hold the process open; ``shutdown`` keeps its deadline and books what is left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from mixtrack._delivery.outcomes import Delivery, Outcomes
from mixtrack._delivery.queue import Batch
from mixtrack._delivery.sender import DONE, Retrying, Send, Sender, Settled, Wait
from mixtrack.errors import TransportError
from mixtrack.transport import Transport

__all__ = ["Worker", "drive"]

log = logging.getLogger("mixtrack")


def drive(
    sender: Sender,
    transport: Transport,
    wait: Callable[[float], bool],
    book: Callable[[Send | Settled | Retrying], None],
) -> bool:
    """Runs ``sender`` to the end over ``transport``; ``wait(seconds)`` sleeps and returns
    False to stop (the sender is then abandoned). True when every record settled.

    Only :class:`~mixtrack.TransportError` counts as a failed attempt; anything else a
    transport raises is a bug in it and propagates.
    """
    while True:
        event = sender.next_event()
        if event is DONE:
            return True
        if isinstance(event, Send):
            book(event)
            try:
                response = transport.send(event.request)
            except TransportError as exc:
                sender.fail(exc)
                continue
            except BaseException:
                sender.abandon()
                raise
            sender.receive(response)
        elif isinstance(event, Wait):
            if not wait(event.seconds):
                sender.abandon()
                return False
        else:
            assert isinstance(event, (Settled, Retrying))
            book(event)


class Worker:
    """Delivery threads for one client."""

    def __init__(
        self,
        delivery: Delivery,
        transport: Transport,
    ) -> None:
        self.delivery = delivery
        self.config = delivery.config
        self.queue = delivery.queue
        self.transport = transport
        self._outcomes = Outcomes(delivery.queue, delivery.report_drops)
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._nudge = threading.Condition()
        #: counts wake-ups, so that one that comes while a sender works out its wait (before
        #: the thread sleeps) is not lost: the thread then looks again instead of sleeping
        self._wakes = 0
        delivery.subscribe(self._wake)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._threads)

    def start(self) -> None:
        with self._start_lock:
            if self._threads:
                return
            for n in range(self.config.max_in_flight):
                thread = threading.Thread(
                    target=self._run, name=f"mixtrack-worker-{n}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self, deadline: float) -> None:
        """Stops the threads (the queue is closed: they end once their batch is booked),
        waiting for them until ``deadline``; closes the transport when none is left."""
        self._stop.set()
        self._wake()  # cut short any backoff wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if not any(t.is_alive() for t in self._threads):
            self.transport.close()

    def _wake(self) -> None:
        with self._nudge:
            self._wakes += 1
            self._nudge.notify_all()

    def _waiter(self) -> Callable[[float], bool]:
        """A ``wait`` for one :func:`drive`: it sleeps only when nothing woke the threads
        since it last returned (or since it was made, before the sender's first look)."""
        with self._nudge:
            seen = self._wakes

        def wait(seconds: float) -> bool:
            nonlocal seen
            if self._stop.is_set():
                return False
            with self._nudge:
                if self._wakes == seen:
                    self._nudge.wait(seconds)
                seen = self._wakes
            return not self._stop.is_set() and not self.queue.closed

        return wait

    # -- delivery ------------------------------------------------------------------------

    def _run(self) -> None:
        while (batch := self.queue.take()) is not None:
            self._deliver(batch)

    def _deliver(self, batch: Batch) -> None:
        wait = self._waiter()
        sender = self.delivery.sender(batch)
        try:
            drive(sender, self.transport, wait, lambda event: self._outcomes(batch, event))
        except Exception as exc:  # a bug must not kill the thread or lose the books
            log.exception("unexpected error delivering a batch")
            for start, stop in list(batch.remaining):
                self._outcomes.dropped(batch, start, stop, "internal error", repr(exc))
