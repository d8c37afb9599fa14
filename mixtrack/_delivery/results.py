"""What ``flush()`` and ``shutdown()`` return: the outcome of everything up to the call.

The result is computed from the client's counters, not from per-message bookkeeping: a
window runs from the end of the previous ``flush()`` (or the client's start) to the end of
this one, and its counts are what settled in it. ``pending`` counts the messages queued up to
the call that have not settled yet when the call returns.
"""

from __future__ import annotations

import threading

import attrs

from mixtrack._delivery.stats import Stats

__all__ = ["FlushResult", "FlushWindow"]


@attrs.frozen
class FlushResult:
    """The outcome of :meth:`mixtrack.Client.flush` and :meth:`~mixtrack.Client.shutdown`.

    Truthy only when everything enqueued up to the call was accepted by the collector:
    nothing rejected, nothing dropped, nothing left pending when the timeout passed.

    >>> result = client.flush(timeout=5.0)  # doctest: +SKIP
    >>> if not result:  # doctest: +SKIP
    ...     log.error("analytics: %d rejected, %d dropped, %d pending",
    ...               result.rejected, result.dropped, result.pending)

    ``invalid`` counts what the client refused at the call sites in the same window (values
    left out, messages not sent; see ``Config.invalid``). Those were logged when they happened
    and never reached delivery, so they do not make the result falsy.
    """

    #: Messages the collector accepted in this window.
    sent: int = 0
    #: Messages the collector refused in this window (4xx, per-record failures).
    rejected: int = 0
    #: Messages given up on in this window: queue overflow, retry budget, shutdown deadline.
    dropped: int = 0
    #: Messages enqueued up to the call and still unsettled when it returned (timed out).
    pending: int = 0
    #: Values and messages refused at the call sites in this window (never sent).
    invalid: int = 0

    def __bool__(self) -> bool:
        return not (self.rejected or self.dropped or self.pending)


class FlushWindow:
    """Turns two snapshots of the counters into the result of one flush window.

    >>> window = FlushWindow()
    >>> window.close(Stats(enqueued=2), Stats(enqueued=2, sent=2), settled=True)
    FlushResult(sent=2, rejected=0, dropped=0, pending=0, invalid=0)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start = Stats()

    def peek(self, now: Stats) -> FlushResult:
        """What the window holds so far, without ending it (a close that did not wait for
        another one still under way): what is pending now is unsettled."""
        with self._lock:
            start = self._start
        return _between(start, now, now.pending)

    def close(self, at_call: Stats, at_return: Stats, *, settled: bool) -> FlushResult:
        """The result of the window ending now; the next window starts here."""
        with self._lock:
            start, self._start = self._start, at_return
        if settled:
            pending = 0
        else:
            # what arrived after the call is not this window's, and is taken as unsettled
            late = at_return.enqueued - at_call.enqueued
            pending = max(at_return.pending - late, 1 if at_return.pending else 0)
        return _between(start, at_return, pending)


def _between(start: Stats, end: Stats, pending: int) -> FlushResult:
    """What settled from ``start`` to ``end``, with ``pending`` left unsettled."""
    return FlushResult(
        sent=end.sent - start.sent,
        rejected=end.rejected - start.rejected,
        dropped=end.dropped - start.dropped,
        pending=pending,
        invalid=end.invalid - start.invalid,
    )
