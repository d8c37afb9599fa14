"""Booking what a sender decided: the queue's counters, the log lines, ``on_drop``.

Shared by the thread worker and the asyncio worker (the importer keeps books of its own).
A drop is counted by the queue, logged by the :class:`~mixtrack._stats.DropLog` (one WARNING
per cause every 10 s at most) and handed to ``on_drop`` as a plain dict.
"""

from __future__ import annotations

import logging
from collections import Counter

from mixtrack._config import Config
from mixtrack._delivery import Retrying, Send, Settled
from mixtrack._queue import Batch, Drop, Dropped, MessageQueue
from mixtrack._stats import DropLog
from mixtrack._wire import loads

__all__ = ["DropReporter", "Outcomes"]

log = logging.getLogger("mixtrack")


class DropReporter:
    """Logs drops (rate-limited, per cause) and calls ``config.on_drop`` with each message."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.log = DropLog()

    def __call__(self, dropped: Dropped) -> None:
        if not dropped:
            return
        causes = Counter(drop.cause for drop in dropped)
        details = {drop.cause: drop.detail for drop in dropped if drop.detail}
        for cause, count in causes.items():
            self.log.note(cause, count, details.get(cause, ""))
        on_drop = self.config.on_drop
        if on_drop is None:
            return
        for drop in dropped:
            try:
                on_drop(drop.route, loads(drop.record), drop.reason)
            except Exception:
                log.exception("mixtrack: on_drop callback raised")


class Outcomes:
    """Books a sender's events for one batch on the queue."""

    def __init__(self, queue: MessageQueue, report_drops: DropReporter) -> None:
        self.queue = queue
        self.report_drops = report_drops

    def __call__(self, batch: Batch, event: Send | Settled | Retrying) -> None:
        if isinstance(event, Send):
            self.queue.record_request(len(event.request.body))
        elif isinstance(event, Retrying):
            self.queue.record_retry(event.detail)
        elif event.fate == "sent":
            self.queue.settle(batch, event.start, event.stop, sent=event.count)
        elif event.fate == "refused":
            self._refused(batch, event)
        else:
            self.dropped(batch, event.start, event.stop, event.cause, event.detail)

    def _refused(self, batch: Batch, event: Settled) -> None:
        failed = event.answer.failed if event.answer is not None else {}
        examples = "; ".join(f"#{i}: {reason}" for i, reason in list(failed.items())[:3])
        log.warning(
            "mixtrack: /%s refused %d of %d messages (%s)%s",
            batch.route,
            event.rejected,
            event.count,
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
