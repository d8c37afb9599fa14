"""The delivery threads: take a batch, serialize it once, send it, retry, book the outcome.

``max_in_flight`` threads share one :class:`~mixtrack._queue.MessageQueue`, so that many
requests are in flight at once and a distant collector's latency does not cap throughput.
The threads start on the first message (not at import or construction, which keeps a
pre-fork server's master process free of threads) and are daemons: a hung collector can
never hold the process open; ``shutdown`` keeps its deadline and books what is left as dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import tenacity

from mixtrack._config import Config
from mixtrack._delivery import Abandoned, Outcomes, array_of, exhausted, serialized_runs
from mixtrack._queue import Batch, Dropped, Item, MessageQueue
from mixtrack._retry import RetryableAnswer, retry_policy
from mixtrack._wire import Answer, Route, encode_request, read_answer
from mixtrack.errors import TransportError
from mixtrack.transport import Request, Transport

__all__ = ["Worker"]

log = logging.getLogger("mixtrack")


class Worker:
    """Delivery threads for one client."""

    def __init__(
        self,
        config: Config,
        queue: MessageQueue,
        transport: Transport,
        report_drops: Callable[[Dropped], None],
    ) -> None:
        self.config = config
        self.queue = queue
        self.transport = transport
        self._report_drops = report_drops
        self._outcomes = Outcomes(queue, report_drops)
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._policy = retry_policy(
            config, deadline=lambda: self._deadline, on_retry=self._outcomes.retrying
        )

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

    def shutdown(self, timeout: float) -> bool:
        """Delivers what is queued within ``timeout`` seconds; books the rest as dropped."""
        deadline = time.monotonic() + max(0.0, timeout)
        self._deadline = deadline
        target = self.queue.begin_close()
        if self._threads:
            delivered = self.queue.wait_settled(target, deadline)
        else:
            delivered = target == 0 or self.queue.stats().pending == 0
        dropped = self.queue.close()
        self._stop.set()  # cut short any backoff wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if not any(t.is_alive() for t in self._threads):
            self.transport.close()
        if dropped:
            log.warning(
                "mixtrack: shutdown deadline of %.1fs passed with %d messages undelivered; "
                "they are counted as dropped",
                timeout,
                len(dropped),
            )
            self._report_drops(dropped)
        return delivered and not dropped

    # -- delivery ------------------------------------------------------------------------

    def _run(self) -> None:
        while (batch := self.queue.take()) is not None:
            try:
                self._deliver(batch)
            except Exception as exc:  # a bug must not kill the thread or lose the books
                log.exception("mixtrack: unexpected error delivering a batch")
                left = batch.items[: batch.unsettled]
                self._outcomes.dropped(batch, left, f"internal error: {exc!r}")

    def _deliver(self, batch: Batch) -> None:
        for items, body in serialized_runs(self.config, batch.items):
            self._send(batch, items, body)

    def _send(self, batch: Batch, items: Sequence[Item], body: bytes) -> None:
        request = encode_request(self.config, batch.route, body)
        retrying = tenacity.Retrying(sleep=self._sleep, **self._policy)  # type: ignore[arg-type]
        try:
            answer: Answer = retrying(self._attempt, batch.route, request, len(items))
        except (RetryableAnswer, TransportError, Abandoned) as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            self._outcomes.dropped(batch, items, str(exhausted(batch, len(items), attempts, exc)))
            return
        if answer.verdict == "accepted":
            self._outcomes.accepted(batch, items)
        elif answer.verdict == "split":
            half = len(items) // 2
            for part in (items[:half], items[half:]):
                self._send(batch, part, array_of(part))
        else:
            self._outcomes.refused(batch, items, answer)

    def _attempt(self, route: Route, request: Request, size: int) -> Answer:
        if self._stop.is_set():
            raise Abandoned("shutdown deadline passed")
        self.queue.record_request(len(request.body))
        response = self.transport.send(request)
        answer = read_answer(route, response, size)
        if answer.verdict == "retry":
            raise RetryableAnswer(answer)
        return answer

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)
