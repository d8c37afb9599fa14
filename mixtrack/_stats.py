"""Delivery counters, read as one consistent, frozen snapshot."""

from __future__ import annotations

import attrs

__all__ = ["Stats"]


@attrs.frozen
class Stats:
    """A snapshot of a client's delivery counters. Always
    ``enqueued == sent + rejected + dropped + pending``.

    >>> stats = client.stats()  # doctest: +SKIP
    >>> stats.enqueued == stats.sent + stats.rejected + stats.dropped + stats.pending
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
    #: Queued or in flight.
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
    #: True for a client made with ``disabled=True`` (or ``MIXTRACK_DISABLED=1``): it
    #: queues and sends nothing, so every other counter stays 0.
    disabled: bool = False
