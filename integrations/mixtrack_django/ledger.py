"""``CacheLedger``: exactly-once exposure on any Django cache backend (``cache.add``).

A shared backend (Redis, Memcached, the database cache) makes it hold across every worker
process and host; ``LocMemCache`` holds for one process only, and ``DummyCache`` holds
nothing (``manage.py mixtrack_check`` says so).

>>> from mixtrack_django.ledger import CacheLedger
>>> ledger = CacheLedger("default", ttl=30 * 24 * 3600)   # doctest: +SKIP
>>> ledger.add("x:1", "v"), ledger.add("x:1", "w")         # doctest: +SKIP
(True, False)
"""

from __future__ import annotations

from django.core.cache import BaseCache, caches

__all__ = ["CacheLedger"]


class CacheLedger:
    """A :class:`mixtrack.exposure.Ledger` on the Django cache named ``alias``.

    ``add`` is the backend's atomic ``cache.add``; ``ttl`` (seconds, None: forever) is how
    long an exposure is remembered. The cache is looked up on every call because Django
    keeps one cache connection per thread or task.
    """

    def __init__(self, alias: str = "default", ttl: float | None = 90 * 24 * 3600) -> None:
        self.alias = alias
        self.ttl = ttl

    @property
    def cache(self) -> BaseCache:
        """The cache connection for this thread or task."""
        return caches[self.alias]

    def add(self, key: str, value: str) -> bool:
        return bool(self.cache.add(key, value, timeout=self.ttl))

    def get(self, key: str) -> str | None:
        value = self.cache.get(key)
        return None if value is None else str(value)

    def release(self, key: str, value: str) -> bool:
        # Not atomic across processes: at worst a reservation that another request took
        # in the instant after ours expired is freed, and that user is exposed again later.
        cache = self.cache
        if cache.get(key) != value:
            return False
        cache.delete(key)
        return True

    def __repr__(self) -> str:
        return f"CacheLedger({self.alias!r}, ttl={self.ttl})"
