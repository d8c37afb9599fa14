"""Delivery counters, read as one consistent, frozen snapshot; and the drop warnings.

Every message that is given up on has a cause, counted in :class:`Stats` and logged as a
WARNING on the ``mixtrack`` logger by :class:`DropLog`: at most one line per cause every
10 seconds, with the count since the last line, so a flood of drops cannot flood the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal, get_args

import attrs

__all__ = ["DROP_CAUSES", "DropCause", "DropLog", "LogLimit", "Stats"]

log = logging.getLogger("mixtrack")

DropCause = Literal[
    "queue full",
    "retry budget",
    "shutdown deadline",
    "spool full",
    "spool error",
    "client shut down",
    "internal error",
]
DROP_CAUSES: tuple[DropCause, ...] = get_args(DropCause)
_ADVICE: dict[str, str] = {
    "queue full": "raise max_queue_events / max_queue_bytes, or set spool_dir",
    "retry budget": "the collector kept failing for max_elapsed seconds (or max_attempts)",
    "shutdown deadline": "give shutdown()/flush() a longer timeout, or set spool_dir",
    "spool full": "raise spool_max_bytes",
    "spool error": "the spool_dir could not be written (a full or failing disk): free space",
    "client shut down": "track() was called after shutdown()",
    "internal error": "a bug in mixtrack: please report it with the traceback above",
}


@attrs.frozen
class Stats:
    """A snapshot of a client's delivery counters. Always
    ``enqueued == sent + rejected + dropped + pending``.

    >>> s = client.stats()  # doctest: +SKIP
    >>> s.enqueued == s.sent + s.rejected + s.dropped + s.pending  # doctest: +SKIP
    True
    """

    #: Messages accepted by ``track()`` and the other calls (bad input raises; not counted).
    enqueued: int = 0
    #: Accepted by the collector.
    sent: int = 0
    #: Refused by the collector (4xx, per-record failures); never retried.
    rejected: int = 0
    #: Given up on: queue overflow, retry budget exhausted, shutdown deadline.
    dropped: int = 0
    #: Queued or in flight (with ``spool_dir``: also what waits on disk).
    pending: int = 0
    #: Attempts after the first, over all batches.
    retries: int = 0
    #: HTTP requests made (answered or not).
    requests: int = 0
    #: Bytes of request bodies sent, after compression.
    bytes_sent: int = 0
    #: The latest delivery problem, for humans (``None`` when there has been none).
    last_error: str | None = None
    #: Torn or corrupt records skipped while reading the spool (``spool_dir=`` only).
    spool_corrupt: int = 0
    #: Values refused at the call site with ``invalid="drop"``: properties left out of an
    #: event that was still sent, and messages not sent (bad name or distinct_id). Not part
    #: of ``enqueued``.
    invalid: int = 0
    #: Events that broke the client's tracking plan (``plan=``): sent anyway, or left out
    #: with ``off_plan="drop"`` (then also counted in ``invalid``, not in ``enqueued``).
    off_plan: int = 0
    #: True for a client made with ``disabled=True`` (or ``MIXTRACK_DISABLED=1``): it
    #: queues and sends nothing, so every other counter stays 0.
    disabled: bool = False
    #: ``dropped`` by cause: ``"queue full"``, ``"retry budget"``, ``"shutdown deadline"``,
    #: ``"spool full"``, ``"spool error"`` (the disk full or failing), ``"client shut down"``,
    #: ``"internal error"`` (causes seen only).
    drops: Mapping[str, int] = attrs.field(factory=dict)


class LogLimit:
    """At most one line per key every ``interval`` seconds; what was held back is counted and
    said on the next line, so a flood of failures cannot flood the log.

    >>> limit = LogLimit(clock=lambda: 0.0)
    >>> limit.due("refused", 3), limit.due("refused", 2)
    ((True, 3, 3, None), (False, 0, 5, 0.0))
    """

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._unlogged: dict[str, int] = {}
        self._logged_at: dict[str, float] = {}

    def due(self, key: str, count: int = 1) -> tuple[bool, int, int, float | None]:
        """Counts ``count`` for ``key``: ``(log now?, count to say, total, seconds since the
        key's last line or None for the first)``."""
        with self._lock:
            self._counts[key] = total = self._counts.get(key, 0) + count
            unlogged = self._unlogged.get(key, 0) + count
            now = self._clock()
            last = self._logged_at.get(key)
            if last is not None and now - last < self._interval:
                self._unlogged[key] = unlogged
                return False, 0, total, now - last
            self._logged_at[key] = now
            self._unlogged[key] = 0
            return True, unlogged, total, None if last is None else now - last

    def held_back(self) -> dict[str, tuple[int, int]]:
        """Takes what was counted and not said yet: key -> (count, total)."""
        with self._lock:
            due = {key: (n, self._counts[key]) for key, n in self._unlogged.items() if n}
            for key in due:
                self._unlogged[key] = 0
            return due

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class DropLog:
    """Counts drops by cause and logs a WARNING per cause at most every ``interval`` s.

    >>> drops = DropLog()
    >>> drops.note("queue full", 3)
    >>> drops.counts()
    {'queue full': 3}
    """

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = LogLimit(interval, clock)

    def note(self, cause: str, count: int = 1, detail: str = "") -> None:
        """Counts ``count`` messages dropped for ``cause``; logs when the cause's line is due."""
        if count <= 0:
            return
        due, unlogged, total, since = self._limit.due(cause, count)
        if not due:
            return
        log.warning(
            "dropped %d messages (%s)%s, %d in all%s; %s",
            unlogged,
            cause,
            "" if since is None else f" in the last {since:.0f}s",
            total,
            f": {detail}" if detail else "",
            _ADVICE.get(cause, ""),
        )

    def flush(self) -> None:
        """Logs what was dropped since each cause's last line (at shutdown: nothing left
        unsaid)."""
        for cause, (count, total) in self._limit.held_back().items():
            log.warning(
                "dropped %d messages (%s) since the last report, %d in all; %s",
                count,
                cause,
                total,
                _ADVICE.get(cause, ""),
            )

    def counts(self) -> dict[str, int]:
        return self._limit.counts()
