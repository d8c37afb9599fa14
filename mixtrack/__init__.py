"""mixtrack: server-side product analytics in Mixpanel's wire format.

>>> import mixtrack
>>> client = mixtrack.Client("PROJECT_TOKEN", api_host="http://127.0.0.1:8765")  # doctest: +SKIP
>>> client.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP
"""

from __future__ import annotations

from mixtrack._config import Config
from mixtrack._context import context
from mixtrack._delivery.results import FlushResult
from mixtrack._delivery.stats import Stats
from mixtrack._flush_after import AsyncFlushAfter, FlushAfter
from mixtrack._version import __version__
from mixtrack.aio import AsyncClient
from mixtrack.client import Client
from mixtrack.errors import (
    ConfigError,
    DeliveryError,
    MixtrackError,
    OffPlanError,
    PlanError,
    TransportError,
    ValidationError,
)

__all__ = [
    "AsyncClient",
    "AsyncFlushAfter",
    "Client",
    "Config",
    "ConfigError",
    "DeliveryError",
    "FlushAfter",
    "FlushResult",
    "MixtrackError",
    "OffPlanError",
    "PlanError",
    "Stats",
    "TransportError",
    "ValidationError",
    "__version__",
    "context",
]


def __getattr__(name: str) -> object:
    # exported once and never raised; importable still, for existing except clauses
    if name in ("HTTPStatusError", "RetriesExhausted"):
        import warnings

        from mixtrack import errors

        warnings.warn(
            f"mixtrack.{name} is never raised and will be removed; refused batches are "
            "counted in stats().rejected, exhausted retries in stats().drops",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(errors, name)
    raise AttributeError(f"module 'mixtrack' has no attribute {name!r}")
