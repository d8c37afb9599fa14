"""``mixtrack.Client``: the thread-based client. Calls return at once; a worker delivers."""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Any

from mixtrack._api import Calls
from mixtrack._config import Config
from mixtrack._flush_after import FlushAfter
from mixtrack._lifecycle import build_config, register, report_drops
from mixtrack._message import InsertIds
from mixtrack._queue import Dropped, MessageQueue
from mixtrack._stats import Stats
from mixtrack._wire import Route
from mixtrack._worker import Worker
from mixtrack.transport import HttpxTransport, Transport

__all__ = ["Client"]

log = logging.getLogger("mixtrack")


class Client(Calls):
    """Tracks events and profile updates in Mixpanel's wire format without blocking.

    Every call validates its input (raising :class:`~mixtrack.ValidationError` at the call
    site), queues one message and returns; delivery, batching, gzip and retries happen in
    background threads. I/O failures never reach the caller: they are counted in
    :meth:`stats` and logged on the ``mixtrack`` logger.

    >>> with mixtrack.Client("PROJECT_TOKEN", api_host="http://127.0.0.1:8765") as client:
    ...     client.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP

    Options are the fields of :class:`~mixtrack.Config`, as keywords or ``config=``.
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
        config = build_config(token, config, options)
        self.config = config
        self._own_transport = transport is None
        self._transport = transport
        self._insert_ids = InsertIds()
        self._super: dict[str, Any] = {}
        self._shutdown_result: bool | None = None
        self._debug = config.debug
        if config.debug:
            log.setLevel(logging.DEBUG)
        self._build()
        register(self)

    @classmethod
    def from_env(cls, *, transport: Transport | None = None, **overrides: Any) -> Client:
        """A client configured from ``MIXTRACK_*`` environment variables (keywords win).

        >>> client = mixtrack.Client.from_env()  # needs MIXTRACK_TOKEN  # doctest: +SKIP
        """
        return cls(config=Config.from_env(**overrides), transport=transport)

    def _build(self) -> None:
        config = self.config
        if self._own_transport or self._transport is None:
            self._transport = HttpxTransport(
                max_connections=config.max_in_flight, verify=config.verify_tls
            )
        if config.spool_dir:
            from mixtrack._spool_queue import SpooledQueue

            self._queue: MessageQueue = SpooledQueue(config)
        else:
            self._queue = MessageQueue(config)
        self._worker = Worker(config, self._queue, self._transport, self._report_drops)
        if self._queue.stats().pending:
            self._worker.start()  # messages adopted from a spool left by a dead process

    def _enqueue(self, route: Route, message: dict[str, Any], size: int) -> None:
        dropped = self._queue.put(route, message, size)
        if dropped:
            self._report_drops(dropped)
        if self._debug:
            log.debug("mixtrack: queued for /%s: %s", route, message)
        if not self._worker.started and not self._queue.closed:
            try:
                self._worker.start()
            except RuntimeError as exc:  # interpreter shutting down: threads refused
                self._queue.record_retry(f"could not start the worker: {exc}")

    def _report_drops(self, dropped: Dropped) -> None:
        report_drops(self.config, dropped)

    # -- lifecycle -----------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until everything enqueued so far is settled (sent, rejected or dropped).

        Returns False when ``timeout`` seconds passed first; never raises on I/O.
        """
        deadline = time.monotonic() + timeout
        target = self._queue.request_flush()
        if target and not self._worker.started and not self._queue.closed:
            self._worker.start()
        return self._queue.wait_settled(target, deadline)

    def flush_after(self, timeout: float = 5.0) -> FlushAfter:
        """A decorator and context manager that flushes when the wrapped code returns or
        raises, so a serverless handler or script that is frozen or exits right after loses
        nothing; see :class:`~mixtrack.FlushAfter`.

        >>> @client.flush_after(timeout=2.0)  # doctest: +SKIP
        ... def handler(event, context):
        ...     client.track(event["user"], "Invoked")
        """
        return FlushAfter(self, timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Delivers what is queued within ``timeout`` (default ``config.shutdown_timeout``)
        seconds and stops. Returns True when nothing was left behind; what was is counted as
        dropped. Later calls return the first result. Idempotent and safe from any thread."""
        if self._shutdown_result is None:
            budget = self.config.shutdown_timeout if timeout is None else timeout
            self._shutdown_result = self._worker.shutdown(budget)
        return self._shutdown_result

    close = shutdown

    def stats(self) -> Stats:
        """A consistent snapshot of the delivery counters; see :class:`~mixtrack.Stats`."""
        return self._queue.stats()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return (
            f"<mixtrack.Client api_host={self.config.api_host!r} endpoint={self.config.endpoint!r}>"
        )

    def _after_fork_in_child(self) -> None:
        # The child gets its own queue, worker and connections; the parent's pending
        # messages stay the parent's to send, so each is delivered once.
        self._insert_ids.reseed()
        forget = getattr(self._queue, "forget_after_fork", None)
        if forget is not None:
            forget()  # the parent's spool files and lock stay the parent's
        closed = self._shutdown_result is not None
        self._build()
        if closed:
            self._queue.close()

    def _drain_at_exit(self) -> None:
        if self._shutdown_result is None and (self._worker.started or self.stats().pending):
            self.shutdown()
