"""What the thread worker and the asyncio worker share: serializing a batch, giving up on it,
and booking every outcome on the queue with the log line that goes with it. No I/O."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import tenacity

from mixtrack._config import Config
from mixtrack._queue import Batch, Dropped, Item, MessageQueue
from mixtrack._wire import Answer, json_array, serialize, serialize_array, split_payloads
from mixtrack.errors import RetriesExhausted

__all__ = ["Abandoned", "Outcomes", "Run", "array_of", "exhausted", "serialized_runs"]

log = logging.getLogger("mixtrack")


class Abandoned(Exception):
    """The shutdown deadline passed during a backoff wait."""


Run = tuple[Sequence[Item], bytes]  # some of a batch's items and their JSON array


def array_of(items: Sequence[Item]) -> bytes:
    """The JSON array of some items' messages (a 413 splits a batch: each half is new)."""
    return serialize_array([message for _, message, _ in items])


def serialized_runs(config: Config, items: Sequence[Item]) -> list[Run]:
    """The batch serialized once, as one request, or as several when its JSON is larger than
    ``max_batch_bytes`` (then cut message by message)."""
    body = array_of(items)
    if len(body) <= config.max_batch_bytes:
        return [(items, body)]
    runs: list[Run] = []
    offset = 0
    for run in split_payloads(serialize(m for _, m, _ in items), config.max_batch_bytes):
        runs.append((items[offset : offset + len(run)], json_array(run)))
        offset += len(run)
    return runs


def exhausted(batch: Batch, count: int, attempts: int, last: BaseException) -> RetriesExhausted:
    return RetriesExhausted(
        f"gave up on {count} messages to /{batch.route} after {attempts} attempts: {last}",
        attempts=attempts,
        last=last,
    )


class Outcomes:
    """Books what happened to a batch's items, logs it, and reports drops to ``on_drop``."""

    def __init__(self, queue: MessageQueue, report_drops: Callable[[Dropped], None]) -> None:
        self.queue = queue
        self._report_drops = report_drops

    def accepted(self, batch: Batch, items: Sequence[Item]) -> None:
        self.queue.settle(batch, items, sent=len(items))

    def refused(self, batch: Batch, items: Sequence[Item], answer: Answer) -> None:
        failed = answer.failed
        rejected = len(failed) if answer.verdict == "partial" else len(items)
        examples = "; ".join(f"#{i}: {reason}" for i, reason in list(failed.items())[:3])
        log.warning(
            "mixtrack: /%s refused %d of %d messages (%s)%s",
            batch.route,
            rejected,
            len(items),
            answer.detail,
            f" e.g. {examples}" if examples else "",
        )
        self.queue.settle(
            batch, items, sent=len(items) - rejected, rejected=rejected, error=answer.detail
        )

    def dropped(self, batch: Batch, items: Sequence[Item], reason: str) -> None:
        if batch.abandoned:
            return  # shutdown already booked and reported these as dropped
        log.warning("mixtrack: dropped %d messages to /%s: %s", len(items), batch.route, reason)
        self.queue.settle(batch, items, dropped=len(items), error=reason)
        self._report_drops([(batch.route, message, reason) for _, message, _ in items])

    def retrying(self, retry_state: tenacity.RetryCallState) -> None:
        """tenacity's ``before_sleep``: count the retry and say why."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        self.queue.record_retry(str(exc))
        log.info(
            "mixtrack: attempt %d failed (%s); retrying in %.2fs",
            retry_state.attempt_number,
            exc,
            retry_state.upcoming_sleep,
        )
