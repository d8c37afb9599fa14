"""Ledgers answer "first time?" atomically; the guard keeps an outage out of the page."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

__all__ = ["Ledger", "LedgerFallback", "MemoryLedger"]

logger = logging.getLogger("mixtrack.exposure")

LedgerFallback = Literal["memory", "expose", "skip"]
"""What :class:`~mixtrack.exposure.Experiments` does while its ledger's backend is down.

- ``"memory"`` (default): use an in-process :class:`MemoryLedger` until the backend is back.
  Exactly once per process during the outage; another process may expose the same user.
- ``"expose"``: treat every exposure as the first (at least once; duplicates share the
  deterministic ``$insert_id``).
- ``"skip"``: send no exposure while the backend is down (at most once).
"""


@runtime_checkable
class Ledger(Protocol):
    """An atomic key/value store with "add if absent"; all mixtrack asks of a backend.

    Keys are short ASCII strings (``x:<32 hex>``), safe for memcached and Redis alike;
    values are short JSON strings. Expiry, if any, belongs to the ledger. A Django cache
    fits in a few lines::

        class CacheLedger:
            def __init__(self, cache, ttl=None):
                self.cache, self.ttl = cache, ttl
            def add(self, key, value):
                return self.cache.add(key, value, timeout=self.ttl)
            def get(self, key):
                return self.cache.get(key)
            def release(self, key, value):
                if self.cache.get(key) != value:
                    return False
                self.cache.delete(key)
                return True

    Methods may raise when the backend is unreachable; the caller falls back (see
    :data:`LedgerFallback`).
    """

    def add(self, key: str, value: str) -> bool:
        """Store ``value`` under ``key`` unless the key exists; True if stored. Atomic."""
        ...

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None."""
        ...

    def release(self, key: str, value: str) -> bool:
        """Delete ``key`` only if it still holds ``value``; True if deleted."""
        ...


class MemoryLedger:
    """A thread-safe, bounded LRU :class:`Ledger` for one process, with optional expiry.

    ``max_keys`` bounds memory: the least recently used key is forgotten first (a forgotten
    user could be exposed again, so size it above your active users times experiments).
    ``ttl`` (seconds) forgets entries after that long; None keeps them.

    >>> ledger = MemoryLedger(max_keys=10_000, ttl=24 * 3600)
    >>> ledger.add("x:1", "v"), ledger.add("x:1", "w"), ledger.get("x:1")
    (True, False, 'v')
    """

    def __init__(
        self,
        max_keys: int = 100_000,
        ttl: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
        self.max_keys = max_keys
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def add(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            expires = None if self.ttl is None else self._clock() + self.ttl
            self._entries[key] = (value, expires)
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def release(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key) != value:
                return False
            del self._entries[key]
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryLedger(max_keys={self.max_keys}, ttl={self.ttl})"


class GuardedLedger:
    """Wraps the configured ledger so a backend error never reaches the page.

    After an error the backend is left alone for ``retry_interval`` seconds (no connect
    timeout on every request during an outage); each operation in that time follows the
    :data:`LedgerFallback` policy and is counted.
    """

    def __init__(
        self,
        primary: Ledger,
        policy: LedgerFallback = "memory",
        *,
        retry_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if policy not in ("memory", "expose", "skip"):
            raise ValueError(
                f"on_ledger_error must be 'memory', 'expose' or 'skip', got {policy!r}"
            )
        self.primary = primary
        self.policy: LedgerFallback = policy
        self.fallback = MemoryLedger()
        self.retry_interval = retry_interval
        self.errors = 0
        self.fallbacks = 0
        self._clock = clock
        self._down_until: float | None = None
        # Until the first outage the fallback is empty; skip looking into it.
        self._fallback_used = False
        self._lock = threading.Lock()

    def _usable(self) -> bool:
        down_until = self._down_until  # one read; the lock guards only the transitions
        return down_until is None or self._clock() >= down_until

    def _failed(self, operation: str, exc: Exception) -> None:
        with self._lock:
            first = self._down_until is None
            self._fallback_used = self.policy == "memory"
            self.errors += 1
            self.fallbacks += 1
            self._down_until = self._clock() + self.retry_interval
        if first:
            logger.warning(
                "exposure ledger %r failed on %s (%s: %s); using the %r fallback until it "
                "answers again",
                self.primary,
                operation,
                type(exc).__name__,
                exc,
                self.policy,
            )

    def _recovered(self) -> None:
        if self._down_until is None:
            return
        with self._lock:
            was_down, self._down_until = self._down_until is not None, None
        if was_down:
            logger.warning("exposure ledger %r answers again", self.primary)

    def _skipped(self) -> None:
        with self._lock:
            self.fallbacks += 1

    def add(self, key: str, value: str) -> bool:
        if self._usable():
            try:
                added = self.primary.add(key, value)
            except Exception as exc:
                self._failed("add", exc)
            else:
                self._recovered()
                # Exposed here during an outage: the backend now knows, and we say "not first".
                if added and self._fallback_used and self.fallback.get(key) is not None:
                    return False
                return added
        else:
            self._skipped()
        if self.policy == "memory":
            return self.fallback.add(key, value)
        return self.policy == "expose"

    def get(self, key: str) -> str | None:
        if self._usable():
            try:
                value = self.primary.get(key)
            except Exception as exc:
                self._failed("get", exc)
            else:
                self._recovered()
                if value is None and self._fallback_used:
                    return self.fallback.get(key)
                return value
        else:
            self._skipped()
        return self.fallback.get(key) if self.policy == "memory" else None

    def release(self, key: str, value: str) -> bool:
        if self._fallback_used and self.fallback.release(key, value):
            return True
        if self._usable():
            try:
                released = self.primary.release(key, value)
            except Exception as exc:
                self._failed("release", exc)
                return False
            self._recovered()
            return released
        self._skipped()
        return False
