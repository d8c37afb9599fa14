"""``mixtrack.Client``: the thread-based client. Calls return at once; a worker delivers."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from mixtrack._base import BaseClient
from mixtrack._config import Config
from mixtrack._delivery.results import FlushResult
from mixtrack._delivery.threads import Worker
from mixtrack._flush_after import FlushAfter, report_unsettled
from mixtrack.transport import HttpxTransport, Transport

__all__ = ["Client"]


class Client(BaseClient[Transport]):
    """Tracks events and profile updates in Mixpanel's wire format without blocking.

    Every call validates its input, serializes one message, queues it and returns; delivery,
    batching, gzip and retries happen in background threads. I/O failures never reach the
    caller: they are counted in :meth:`stats` and logged on the ``mixtrack`` logger. A value
    that cannot be sent is left out and counted (``invalid="drop"``) or raises
    :class:`~mixtrack.ValidationError` at the call site (``invalid="raise"``).

    >>> with mixtrack.Client("PROJECT_TOKEN", api_host="http://127.0.0.1:8765") as client:
    ...     client.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP

    Options are the fields of :class:`~mixtrack.Config`, as keywords or ``config=``; an option
    not passed comes from ``MIXTRACK_<OPTION>`` when that is set, else its default.
    ``transport=`` replaces the HTTP layer (tests, custom stacks); the client then leaves the
    transport open after shutdown only if you keep using it elsewhere.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        config: Config | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(token, config, options, transport)

    @classmethod
    def from_env(cls, *, transport: Transport | None = None, **overrides: Any) -> Client:
        """A client configured from ``MIXTRACK_*`` environment variables (keywords win).

        >>> client = mixtrack.Client.from_env()  # needs MIXTRACK_TOKEN  # doctest: +SKIP
        """
        return cls(config=Config.from_env(**overrides), transport=transport)

    def _build(self) -> None:
        self._delivering = False
        self._closing = threading.Lock()  # one close at a time; the others get its result
        super()._build()
        self._worker = Worker(self._delivery, self._http())
        if self._queue.stats().pending:
            self._worker.start()  # messages adopted from a spool left by a dead process

    def _new_transport(self) -> Transport:
        return HttpxTransport(
            max_connections=self.config.max_in_flight, verify=self.config.verify_tls
        )

    def _kick(self) -> None:
        if not self._worker.started and not self._queue.closed:
            try:
                self._worker.start()
            except RuntimeError as exc:  # interpreter shutting down: threads refused
                self._queue.record_retry(f"could not start the worker: {exc}")
                return
        self._delivering = self._worker.started

    # -- lifecycle -----------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> FlushResult:
        """Waits until everything enqueued so far is settled (sent, rejected or dropped), at
        most ``timeout`` seconds; never raises on I/O. Retry waits are cut so that a last
        attempt is made before the time runs out (nothing is dropped then).

        The :class:`~mixtrack.FlushResult` is truthy only when all of it was accepted, and
        counts what settled since the previous ``flush()``:

        >>> if not client.flush(timeout=5.0):  # doctest: +SKIP
        ...     print(client.flush().rejected)
        """
        deadline, at_call, mark = self._begin_flush(timeout)
        try:
            settled = self._queue.wait_settled(mark, deadline)
        finally:  # returned or interrupted, the flush's deadline stops cutting retry waits
            self._deadline.done(deadline)
        return self._result(at_call, settled)

    def flush_after(self, timeout: float = 5.0) -> FlushAfter:
        """A decorator and context manager that flushes when the wrapped code returns or
        raises, so a serverless handler or script that is frozen or exits right after loses
        nothing; see :class:`~mixtrack.FlushAfter`.

        >>> @client.flush_after(timeout=2.0)  # doctest: +SKIP
        ... def handler(event, context):
        ...     client.track(event["user"], "Invoked")
        """
        return FlushAfter(self, timeout)

    def shutdown(self, timeout: float | None = None) -> FlushResult:
        """Delivers what is queued within ``timeout`` (default ``config.shutdown_timeout``)
        seconds and stops; what is left is counted as dropped (or, with ``spool_dir``, stays
        on disk for the next process). Returns a :class:`~mixtrack.FlushResult`, truthy when
        everything since the last ``flush()`` was accepted; later calls return the first
        result. Idempotent and safe from any thread: a call made while another thread's
        shutdown is under way waits for it at most ``timeout`` seconds too.

        >>> client.shutdown(timeout=2.0)  # doctest: +SKIP
        FlushResult(sent=3, rejected=0, dropped=0, pending=0, invalid=0)
        """
        if not self._closing.acquire(timeout=self._budget(timeout)):
            return self._close_under_way()
        try:
            if self._closed_result is not None:
                return self._closed_result
            deadline, at_call, target = self._begin_close(timeout)
            if self._worker.started:
                delivered = self._queue.wait_settled(target, deadline)
            else:
                delivered = self._queue.is_settled(target)
            dropped = self._queue.close()  # the threads end once their batch is booked
            self._worker.stop(deadline)
            return self._end_close(at_call, delivered, dropped)
        finally:
            self._closing.release()

    close = shutdown

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def _settle(self, *, closing: bool) -> None:
        budget = self.config.shutdown_timeout
        if closing:
            self.shutdown(budget)
        else:
            report_unsettled(self, self.flush(timeout=budget), budget)

    def _close_at_exit(self) -> None:
        self.shutdown()
