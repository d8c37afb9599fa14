"""A per-visitor token bucket: a visitor may send a burst of beacons, then a steady trickle."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from mixtrack.errors import ConfigError

__all__ = ["RateLimiter"]


class RateLimiter:
    """``burst`` requests at once per key, refilled at ``per_minute``; bounded memory.

    One process's view: under several workers each process counts on its own, so the
    fleet-wide limit is the per-process one times the number of processes. ``max_keys``
    bounds memory; the least recently seen visitor is forgotten first (and starts again
    with a full bucket, which errs on the side of letting a real visitor through).

    >>> limiter = RateLimiter(per_minute=60, burst=2)
    >>> [limiter.allow("v1", now=0.0) for _ in range(3)]
    [True, True, False]
    >>> limiter.allow("v1", now=1.0)  # one more after a second at 60 a minute
    True
    """

    def __init__(self, per_minute: float = 30.0, burst: int = 20, max_keys: int = 50_000):
        if (
            not isinstance(per_minute, (int, float))
            or isinstance(per_minute, bool)
            or per_minute <= 0
        ):
            raise ConfigError(f"per_minute must be a positive number, got {per_minute!r}")
        if not isinstance(burst, int) or isinstance(burst, bool) or burst < 1:
            raise ConfigError(f"burst must be an int of at least 1, got {burst!r}")
        if not isinstance(max_keys, int) or isinstance(max_keys, bool) or max_keys < 1:
            raise ConfigError(f"max_keys must be an int of at least 1, got {max_keys!r}")
        self.per_minute = float(per_minute)
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, *, now: float | None = None) -> bool:
        """Take one request from ``key``'s bucket; False when it is empty."""
        clock = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), clock))
            tokens = min(float(self.burst), tokens + max(0.0, clock - last) * rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, clock)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return allowed

    def retry_after(self) -> int:
        """Whole seconds until an empty bucket holds one request again (for Retry-After)."""
        return max(1, int(60.0 / self.per_minute + 0.999))
