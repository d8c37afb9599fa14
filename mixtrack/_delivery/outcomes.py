"""Booking what a sender decided: the queue's counters, the log lines, ``on_drop``.

Shared by the thread worker and the asyncio worker (the importer keeps books of its own). A drop is
counted by the queue, logged by the :class:`~mixtrack._delivery.stats.DropLog` (one WARNING per
cause every 10 s at most, with the last delivery error: what failed, talking to which host) and
handed to ``on_drop`` as a plain dict. Failed attempts and refusals are logged the same way: a
WARNING naming the cause and the host, at most one per 10 s, with the count of what was held back.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

import attrs

from mixtrack._config import Config
from mixtrack._delivery.circuit import Circuit, Deadline
from mixtrack._delivery.queue import Batch, Drop, Dropped, MessageQueue
from mixtrack._delivery.records import loads
from mixtrack._delivery.sender import Retrying, Send, Sender, Settled
from mixtrack._delivery.stats import DropLog, LogLimit

__all__ = ["Delivery", "DropReporter", "Outcomes"]

log = logging.getLogger("mixtrack")


class DropReporter:
    """Logs drops (rate-limited, per cause) and calls ``config.on_drop`` with each message."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.log = DropLog()
        #: the latest delivery error (the queue's), said with drops that carry no detail of
        #: their own: "shutdown deadline" alone does not say the collector refused connections
        self.last_error: Callable[[], str | None] = lambda: None

    def __call__(self, dropped: Dropped) -> None:
        if not dropped:
            return
        causes = Counter(drop.cause for drop in dropped)
        details = {drop.cause: drop.detail for drop in dropped if drop.detail}
        for cause, count in causes.items():
            detail = details.get(cause) or _last_error(self.last_error())
            self.log.note(cause, count, detail)
        on_drop = self.config.on_drop
        if on_drop is None:
            return
        for drop in dropped:
            try:
                on_drop(drop.route, loads(drop.record), drop.reason)
            except Exception:
                log.exception("on_drop callback raised")


def _last_error(error: str | None) -> str:
    return f"last delivery error: {error}" if error else ""


class Outcomes:
    """Books a sender's events for one batch on the queue."""

    def __init__(self, queue: MessageQueue, report_drops: DropReporter) -> None:
        self.queue = queue
        self.report_drops = report_drops
        self.host = queue.config.api_host
        self._limit = LogLimit()

    def __call__(self, batch: Batch, event: Send | Settled | Retrying) -> None:
        if isinstance(event, Send):
            self.queue.record_request(len(event.request.body))
        elif isinstance(event, Retrying):
            self.queue.record_retry(event.detail)
            self._retrying(batch, event)
        elif event.fate == "sent":
            self.queue.settle(batch, event.start, event.stop, sent=event.count)
        elif event.fate == "refused":
            self._refused(batch, event)
        else:
            self.dropped(batch, event.start, event.stop, event.cause, event.detail)

    def _retrying(self, batch: Batch, event: Retrying) -> None:
        due, _, total, _ = self._limit.due("retrying")
        if due:
            log.warning(
                "cannot deliver to %s (/%s): %s; retrying in %.1fs, messages are kept "
                "(%d failed attempts so far)",
                self.host,
                batch.route,
                event.detail,
                event.wait,
                total,
            )

    def _refused(self, batch: Batch, event: Settled) -> None:
        due, count, total, since = self._limit.due("refused", event.rejected)
        if due:
            failed = event.answer.failed if event.answer is not None else {}
            examples = "; ".join(f"#{i}: {reason}" for i, reason in list(failed.items())[:3])
            log.warning(
                "%s (/%s) refused %d messages%s, %d in all (%s)%s",
                self.host,
                batch.route,
                count,
                "" if since is None else f" in the last {since:.0f}s",
                total,
                event.detail,
                f" e.g. {examples}" if examples else "",
            )
        self.queue.settle(
            batch,
            event.start,
            event.stop,
            sent=event.count - event.rejected,
            rejected=event.rejected,
            error=event.detail,
        )

    def dropped(self, batch: Batch, start: int, stop: int, cause: str, detail: str) -> None:
        if self.queue.settle(
            batch, start, stop, dropped=stop - start, cause=cause, error=detail or cause
        ):
            self.report_drops(
                [
                    Drop(batch.route, record, cause, detail)
                    for record in batch.records.slice(start, stop)
                ]
            )


@attrs.frozen(eq=False)
class Delivery:
    """What the two drivers of one client share: the queue batches are taken from, the
    circuit and deadline every sender obeys, and the books its outcomes go to."""

    config: Config
    queue: MessageQueue
    circuit: Circuit
    deadline: Deadline
    report_drops: DropReporter

    def sender(self, batch: Batch) -> Sender:
        """The sender of ``batch`` (of what is left of it, when it was handed back)."""
        return Sender(
            self.config,
            batch.route,
            batch.records,
            self.circuit,
            deadline=self.deadline,
            parts=batch.remaining,
        )

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Calls ``listener`` when waiting senders should look again (the circuit closed,
        a deadline came); returns the unsubscriber."""
        unsubscribers = [self.circuit.subscribe(listener), self.deadline.subscribe(listener)]

        def unsubscribe() -> None:
            for each in unsubscribers:
                each()

        return unsubscribe
