"""Every exception mixtrack raises, in one tree.

::

    MixtrackError                 base class; catch this to catch everything below
    ├── ConfigError               bad option or environment variable, raised at construction
    │   └── PlanError             a tracking plan that cannot be read (``mixtrack.plan``)
    ├── ValidationError           bad call-site input (event name, property, id); nothing is queued
    │   └── OffPlanError          an event that breaks the client's tracking plan (``plan=``)
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

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mixtrack.plan import Violation

__all__ = [
    "ConfigError",
    "DeliveryError",
    "MixtrackError",
    "OffPlanError",
    "PlanError",
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


class PlanError(ConfigError):
    """A tracking plan cannot be read: a missing folder, a file that is not JSON, or a schema
    that is not draft-07 JSON Schema in the shape Lexicon accepts.

    >>> mixtrack.plan.Plan.load("plan/")  # doctest: +SKIP
    PlanError: plan/event/Signed up.json: 'properties' must be an object, got list
    """


class OffPlanError(ValidationError):
    """An event breaks the tracking plan the client was given (``Client(plan=...,
    invalid="raise")``). ``event`` names it and ``violations`` lists each broken rule.

    >>> client.track("user-42", "Signed upp")  # doctest: +SKIP
    OffPlanError: 'Signed upp' breaks the tracking plan: unplanned_event: 'Signed upp' is not ...
    """

    def __init__(self, event: str, violations: Sequence[Violation]) -> None:
        reasons = "; ".join(v.reason for v in violations)
        super().__init__(f"{event!r} breaks the tracking plan: {reasons}")
        self.event = event
        self.violations = tuple(violations)
