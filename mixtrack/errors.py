"""Every exception mixtrack raises, in one tree.

::

    MixtrackError                 base class; catch this to catch everything below
    ├── ConfigError               bad option or environment variable, raised at construction
    ├── ValidationError           bad call-site input (event name, property, id); nothing is queued
    └── DeliveryError             a request to the collector failed (never raised by ``track()``)
        └── TransportError        no HTTP answer: connection refused or reset, timeout

``track()`` and the other enqueueing calls raise only ``ValidationError`` (bad input) and
``ConfigError``; I/O failures are counted in :meth:`mixtrack.Client.stats` and logged on the
``mixtrack`` logger. ``DeliveryError`` values appear as ``Stats.last_error`` and are raised by
the synchronous helpers that send directly (``mixtrack.compat`` consumers).

``HTTPStatusError`` and ``RetriesExhausted`` are still importable, for code that names them in
an ``except`` clause, but nothing raises them: a refused batch is counted in
``Stats.rejected`` and an exhausted retry budget in ``Stats.drops["retry budget"]``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeliveryError",
    "MixtrackError",
    "TransportError",
    "ValidationError",
]


class MixtrackError(Exception):
    """Base class of every mixtrack exception."""


class ConfigError(MixtrackError, ValueError):
    """An option or ``MIXTRACK_*`` environment variable has a value that cannot work.

    >>> mixtrack.Client("", api_host="http://127.0.0.1:8765")  # doctest: +SKIP
    ConfigError: token must be a non-empty str (your project token), got ''
    """


class ValidationError(MixtrackError, ValueError):
    """A call was refused at the call site because its input cannot be sent.

    Nothing from the refused call is queued; everything queued before stays queued.

    >>> client.track("user-42", "")  # doctest: +SKIP
    ValidationError: event name must be a non-empty str of at most 255 characters, got ''
    """


class DeliveryError(MixtrackError):
    """A batch could not be delivered. Reported through stats and logging, never by ``track()``."""


class TransportError(DeliveryError):
    """The collector gave no HTTP answer: refused or reset connection, DNS failure or timeout."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class HTTPStatusError(DeliveryError):
    """Deprecated, never raised: a refused batch is counted in ``Stats.rejected``."""

    def __init__(self, message: str, *, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RetriesExhausted(DeliveryError):
    """Deprecated, never raised: a spent retry budget is counted in ``Stats.drops``."""

    def __init__(self, message: str, *, attempts: int, last: BaseException | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last = last
