"""What :class:`~mixtrack.Client` and :class:`~mixtrack.AsyncClient` share, method for method.

Both build their configuration the same way, keep their messages in the same queue (with the
same spool when ``spool_dir`` is set), share one circuit between their senders, report drops
the same way and answer ``stats()`` alike; only how delivery runs (threads, or a task on the
running loop) and whether ``flush``/``shutdown`` are coroutines differ.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from mixtrack._api import Calls
from mixtrack._config import Config
from mixtrack._delivery.circuit import Backoff, Circuit
from mixtrack._delivery.messages import InsertIds
from mixtrack._delivery.outcomes import DropReporter
from mixtrack._delivery.queue import MessageQueue
from mixtrack._delivery.records import loads
from mixtrack._delivery.results import FlushResult, FlushWindow
from mixtrack._delivery.stats import Stats
from mixtrack._invalid import InvalidValues
from mixtrack._lifecycle import build_config, register
from mixtrack._processors import MessageProcessors
from mixtrack.protocol.routes import Route

__all__ = ["BaseClient"]

log = logging.getLogger("mixtrack")


class BaseClient(Calls):
    """The shared half of the two clients (not public: use ``Client`` or ``AsyncClient``)."""

    def _after_fork_in_child(self) -> None:
        raise NotImplementedError

    def _drain_at_exit(self) -> None:
        raise NotImplementedError

    def __init__(self, token: str | None, config: Config | None, options: dict[str, Any]) -> None:
        config = build_config(token, config, options, where=f"{type(self).__name__}()")
        self._check_config(config)
        self.config = config
        self._insert_ids = InsertIds()
        self._super: dict[str, Any] = {}
        self._invalid = InvalidValues(config.invalid)
        self._window = FlushWindow()
        self._debug = config.debug
        if config.debug:
            log.setLevel(logging.DEBUG)
        if config.disabled:
            log.info("client disabled: calls are validated, nothing is queued or sent")
        self._report_drops = DropReporter(config)
        processors = [("before_send", config.before_send)] if config.before_send else []
        self._processors = MessageProcessors(
            processors, config.token, self._refuse, self._invalid.skipped
        )
        self._build()
        register(self)

    def _check_config(self, config: Config) -> None:
        """Refuses options this kind of client cannot honour (ConfigError)."""

    def _build(self) -> None:
        """Makes the queue (and its spool) and the circuit: at start and in a forked child."""
        self._window = FlushWindow()  # a forked child's books start from zero
        store = None
        if self.config.spool_dir and not self.config.disabled:
            from mixtrack._delivery.spool import Spool

            store = Spool(self.config.spool_dir, segment_bytes=self.config.spool_segment_bytes)
            store.max_bytes = self.config.spool_max_bytes
            store.fsync_policy = self.config.spool_fsync
        self._queue = MessageQueue(self.config, store)
        self._report_drops.last_error = self._queue.last_error
        self._circuit = Circuit(Backoff.of(self.config))
        if store is not None:
            for route, record in store.adopt_orphans():
                self._report_drops(self._queue.put(route, record) or [])

    def _refuse(self, route: Route, record: bytes, cause: str, detail: str) -> None:
        """Books a message given up on before the queue (a processor dropped it)."""
        self._report_drops(self._queue.refuse(route, record, cause, detail))

    #: True once delivery runs for good (the thread client): ``_kick`` is then skipped.
    _delivering = False

    def _enqueue(self, route: Route, record: bytes) -> None:
        dropped = self._queue.put(route, record)
        if dropped:
            self._report_drops(dropped)
        if self._debug:
            log.debug("queued for /%s: %s", route, loads(record))
        if not self._delivering:
            self._kick()

    def _kick(self) -> None:
        """Makes sure delivery runs (threads started, or a task on the running loop)."""
        raise NotImplementedError

    def stats(self) -> Stats:
        """A consistent snapshot of the delivery counters; see :class:`~mixtrack.Stats`.

        >>> client.stats().pending  # doctest: +SKIP
        0
        """
        stats = self._queue.stats()
        return attrs.evolve(stats, invalid=self._invalid.count, disabled=self.config.disabled)

    def _result(self, at_call: Stats, settled: bool) -> FlushResult:
        """The :class:`~mixtrack.FlushResult` of the flush window ending now."""
        return self._window.close(at_call, self.stats(), settled=settled)

    def _forget_after_fork(self) -> None:
        store = self._queue.store
        if store is not None:
            store.forget_after_fork()

    def __repr__(self) -> str:
        return (
            f"<mixtrack.{type(self).__name__} api_host={self.config.api_host!r} "
            f"endpoint={self.config.endpoint!r}>"
        )
