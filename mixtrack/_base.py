"""What :class:`~mixtrack.Client` and :class:`~mixtrack.AsyncClient` share, method for method.

Both build their configuration the same way, keep their messages in the same queue (with the
same spool when ``spool_dir`` is set), share one circuit between their senders, report drops
the same way and answer ``stats()`` alike; only how delivery runs (threads, or a task on the
running loop) and whether ``flush``/``shutdown`` are coroutines differ.

The lifecycle is kept here, once: one :class:`State` (open, closing, closed), the bookkeeping
of a flush (its deadline, the counters at the call, the mark to wait for) and of a close (the
final deadline, what is left booked as dropped, the result kept for later calls), the fork and
exit hooks, and the one place the transport is made. Each client says how it waits.
"""

from __future__ import annotations

import enum
import logging
import time
from typing import Any, Generic, TypeVar

import attrs

from mixtrack._api import Calls
from mixtrack._config import Config
from mixtrack._delivery.backlog import Backlog
from mixtrack._delivery.circuit import Backoff, Circuit, Deadline
from mixtrack._delivery.lanes import Dropped
from mixtrack._delivery.messages import InsertIds
from mixtrack._delivery.outcomes import Delivery, DropReporter
from mixtrack._delivery.queue import Mark, MessageQueue
from mixtrack._delivery.records import loads
from mixtrack._delivery.results import FlushResult, FlushWindow
from mixtrack._delivery.stats import Stats
from mixtrack._invalid import InvalidValues
from mixtrack._lifecycle import build_config, register
from mixtrack._processors import MessageProcessors, PlanCheck, Processor
from mixtrack.protocol.routes import Route

__all__ = ["BaseClient", "State"]

log = logging.getLogger("mixtrack")

#: The transport a client sends with: blocking for ``Client``, async for ``AsyncClient``.
T = TypeVar("T")


class State(enum.Enum):
    """Where a client is in its life. Calls are accepted in every state; only ``OPEN``
    delivers them (a closed client counts them as dropped)."""

    OPEN = "open"
    CLOSING = "closing"  # shutdown()/aclose() is delivering what is left
    CLOSED = "closed"  # the close result is kept; later closes return it


class BaseClient(Calls, Generic[T]):
    """The shared half of the two clients (not public: use ``Client`` or ``AsyncClient``)."""

    _state = State.OPEN
    _closed_result: FlushResult | None = None

    def __init__(
        self,
        token: str | None,
        config: Config | None,
        options: dict[str, Any],
        transport: T | None = None,
    ) -> None:
        #: a transport passed in is the caller's to close; one made here is the client's
        self._transport: T | None = transport
        self._own_transport = transport is None
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
        processors: list[tuple[str, Processor]] = []
        self._plan: PlanCheck | None = None
        if config.plan is not None:
            raising, drop = config.invalid == "raise", config.off_plan == "drop"
            self._plan = PlanCheck.of(config.plan, raising=raising, drop=drop)
            processors.append(("plan", self._plan))
        if config.before_send and not config.disabled:  # it shapes what is sent: nothing is
            processors.append(("before_send", config.before_send))
        self._processors = (
            MessageProcessors(processors, config.token, self._refuse, self._invalid.skipped)
            if processors
            else None
        )
        self._build()
        register(self)

    def _check_config(self, config: Config) -> None:
        """Refuses options this kind of client cannot honour (ConfigError)."""

    # -- how each client differs -----------------------------------------------------------

    def _new_transport(self) -> T:
        """A transport of the client's own (httpx, pooled to ``max_in_flight``)."""
        raise NotImplementedError

    def _kick(self) -> None:
        """Makes sure delivery runs (threads started, or a task on the running loop)."""
        raise NotImplementedError

    def _close_at_exit(self) -> None:
        """Closes the client at interpreter exit, within its shutdown budget."""
        raise NotImplementedError

    def _settle(self, *, closing: bool) -> None:
        """Delivers what is held within ``shutdown_timeout`` from synchronous code (a job
        runner, a forked child); ``closing`` closes the client as at exit."""
        raise NotImplementedError

    def _forget_delivery(self) -> None:
        """Lets go of the threads or task of the parent process (in a forked child)."""

    # -- the transport, made in one place ----------------------------------------------------

    def _http(self) -> T:
        """The transport to send with: the one passed in, else one made on first use."""
        transport = self._transport
        if transport is None:
            transport = self._transport = self._new_transport()
        return transport

    def _drop_own_transport(self) -> T | None:
        """Forgets the client's own transport and returns it, to be closed by the caller
        (None when there is none, or it was passed in: that one stays the caller's)."""
        if not self._own_transport:
            return None
        transport, self._transport = self._transport, None
        return transport

    def _build(self) -> None:
        """Makes the queue (and its spool) and the circuit: at start and in a forked child."""
        self._window = FlushWindow()  # a forked child's books start from zero
        self._queue = MessageQueue(self.config, self._new_backlog())
        self._report_drops.last_error = self._queue.last_error
        self._queue.on_drops = self._report_drops
        self._circuit = Circuit(Backoff.of(self.config))
        self._deadline = Deadline()
        self._delivery = Delivery(
            self.config, self._queue, self._circuit, self._deadline, self._report_drops
        )
        for route, record in self._queue.backlog.adopt_orphans():
            self._report_drops(self._queue.put(route, record) or [])

    def _new_backlog(self) -> Backlog | None:
        """The spool when ``spool_dir`` is set (and the client is not disabled); else the
        queue keeps its records in memory."""
        if not self.config.spool_dir or self.config.disabled:
            return None
        from mixtrack._delivery.spool import Spool

        spool = Spool(self.config.spool_dir, segment_bytes=self.config.spool_segment_bytes)
        spool.max_bytes = self.config.spool_max_bytes
        spool.fsync_policy = self.config.spool_fsync
        return spool

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

    def stats(self) -> Stats:
        """A consistent snapshot of the delivery counters; see :class:`~mixtrack.Stats`.

        >>> client.stats().pending  # doctest: +SKIP
        0
        """
        stats = self._queue.stats()
        off_plan = 0 if self._plan is None else self._plan.count
        return attrs.evolve(
            stats, invalid=self._invalid.count, off_plan=off_plan, disabled=self.config.disabled
        )

    def _result(self, at_call: Stats, settled: bool) -> FlushResult:
        """The :class:`~mixtrack.FlushResult` of the flush window ending now."""
        return self._window.close(at_call, self.stats(), settled=settled)

    # -- flush and close bookkeeping, once for both clients ----------------------------------

    def _begin_flush(self, timeout: float) -> tuple[float, Stats, Mark]:
        """Starts a flush: its deadline, the counters at the call, the mark to wait for.
        Retry waits are cut so that a last attempt happens before the deadline, until the
        flush hands it to ``self._deadline.done`` as it returns or is interrupted."""
        deadline = time.monotonic() + timeout
        at_call = self.stats()
        mark = self._queue.request_flush()
        if any(mark.values()):
            self._kick()
            self._hurry(deadline, final=False)
        return deadline, at_call, mark

    def _hurry(self, deadline: float, *, final: bool) -> None:
        """Delivery is wanted before ``deadline``: a probe at once if the collector is
        down, and every wait cut for a last attempt before it."""
        now = time.monotonic()
        if deadline > now:
            self._circuit.probe_now(now)
        self._deadline.hurry(deadline, now=now, final=final)

    def _budget(self, timeout: float | None) -> float:
        """The seconds a close may take: ``timeout``, else ``config.shutdown_timeout``."""
        return max(0.0, self.config.shutdown_timeout if timeout is None else timeout)

    def _close_under_way(self) -> FlushResult:
        """What a close returns when another one, still under way, outlasts its budget: the
        books so far, what is pending counted as unsettled (the other close ends the window)."""
        if self._closed_result is not None:  # it ended meanwhile (its result may be falsy)
            return self._closed_result
        return self._window.peek(self.stats())

    def _begin_close(self, timeout: float | None) -> tuple[float, Stats, Mark]:
        """Starts a close: the final deadline (what is left then is dropped), the counters at
        the call and the mark of everything queued so far."""
        self._state = State.CLOSING
        deadline = time.monotonic() + self._budget(timeout)
        self._hurry(deadline, final=True)
        at_call = self.stats()
        return deadline, at_call, self._queue.begin_close()

    def _end_close(self, at_call: Stats, delivered: bool, dropped: Dropped) -> FlushResult:
        """Books what the closed queue left (``dropped``; with a spool it stays on disk) and
        keeps the result for later closes."""
        self._report_drops(dropped)
        self._report_drops.log.flush()
        result = self._result(at_call, delivered and not dropped)
        self._closed_result, self._state = result, State.CLOSED
        return result

    # -- the process: fork and exit ------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # The child gets its own queue, delivery and connections; the parent's pending
        # messages stay the parent's to send, so each is delivered once.
        self._insert_ids.reseed()
        # the parent's spool files and lock stay the parent's
        self._queue.backlog.forget_after_fork()
        closed = self._state is not State.OPEN or self._queue.closed
        self._forget_delivery()
        if self._own_transport:
            self._transport = None  # the parent's connections are not the child's
        self._build()
        if closed:
            self._state = State.CLOSED
            self._queue.close()

    def _drain_at_exit(self) -> None:
        if self._state is State.OPEN and not self._queue.closed and self.stats().pending:
            self._close_at_exit()

    def __repr__(self) -> str:
        return (
            f"<mixtrack.{type(self).__name__} api_host={self.config.api_host!r} "
            f"endpoint={self.config.endpoint!r}>"
        )
