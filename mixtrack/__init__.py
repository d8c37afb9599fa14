"""mixtrack: server-side product analytics in Mixpanel's wire format.

>>> import mixtrack
>>> client = mixtrack.Client("PROJECT_TOKEN", api_host="http://127.0.0.1:8765")  # doctest: +SKIP
>>> client.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP
"""

from __future__ import annotations

from mixtrack._config import Config
from mixtrack._context import context
from mixtrack._flush_after import AsyncFlushAfter, FlushAfter
from mixtrack._result import FlushResult
from mixtrack._stats import Stats
from mixtrack._version import __version__
from mixtrack.aio import AsyncClient
from mixtrack.client import Client
from mixtrack.errors import (
    ConfigError,
    DeliveryError,
    HTTPStatusError,
    MixtrackError,
    OffPlanError,
    PlanError,
    RetriesExhausted,
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
    "HTTPStatusError",
    "MixtrackError",
    "OffPlanError",
    "PlanError",
    "RetriesExhausted",
    "Stats",
    "TransportError",
    "ValidationError",
    "__version__",
    "context",
]
