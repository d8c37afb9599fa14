"""``mixtrack.Client``: the thread-based client. Calls return at once; a worker delivers."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from mixtrack._base import BaseClient
from mixtrack._config import Config
from mixtrack._delivery.results import FlushResult
from mixtrack._delivery.threads import Worker
from mixtrack._flush_after import FlushAfter, report_unsettled
from mixtrack.transport import HttpxTransport, Transport

__all__ = ["Client"]


class Client(BaseClient):
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
        self._own_transport = transport is None
        self._transport = transport
        self._shutdown_result: FlushResult | None = None
        super().__init__(token, config, options)

    @classmethod
    def from_env(cls, *, transport: Transport | None = None, **overrides: Any) -> Client:
        """A client configured from ``MIXTRACK_*`` environment variables (keywords win).

        >>> client = mixtrack.Client.from_env()  # needs MIXTRACK_TOKEN  # doctest: +SKIP
        """
        return cls(config=Config.from_env(**overrides), transport=transport)

    def _build(self) -> None:
        self._delivering = False
        super()._build()
        config = self.config
        if self._own_transport or self._transport is None:
            self._transport = HttpxTransport(
                max_connections=config.max_in_flight, verify=config.verify_tls
            )
        self._worker = Worker(
            config, self._queue, self._transport, self._circuit, self._report_drops
        )
        if self._queue.stats().pending:
            self._worker.start()  # messages adopted from a spool left by a dead process

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
        deadline = time.monotonic() + timeout
        at_call = self.stats()
        mark = self._queue.request_flush()
        if any(mark.values()):
            self._kick()
            self._circuit.hurry(deadline, now=time.monotonic())
        return self._result(at_call, self._queue.wait_settled(mark, deadline))

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
        result. Idempotent and safe from any thread.

        >>> client.shutdown(timeout=2.0)  # doctest: +SKIP
        FlushResult(sent=3, rejected=0, dropped=0, pending=0, invalid=0)
        """
        if self._shutdown_result is None:
            budget = self.config.shutdown_timeout if timeout is None else timeout
            deadline = time.monotonic() + max(0.0, budget)
            at_call = self.stats()
            delivered = self._worker.shutdown(deadline)
            self._shutdown_result = self._result(at_call, delivered)
        return self._shutdown_result

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

    def _after_fork_in_child(self) -> None:
        # The child gets its own queue, worker and connections; the parent's pending
        # messages stay the parent's to send, so each is delivered once.
        self._insert_ids.reseed()
        self._forget_after_fork()  # the parent's spool files and lock stay the parent's
        closed = self._shutdown_result is not None
        self._build()
        if closed:
            self._queue.close()

    def _settle(self, *, closing: bool) -> None:
        budget = self.config.shutdown_timeout
        if closing:
            self.shutdown(budget)
        else:
            report_unsettled(self, self.flush(timeout=budget), budget)

    def _drain_at_exit(self) -> None:
        if self._shutdown_result is None and (self._worker.started or self.stats().pending):
            self.shutdown()
