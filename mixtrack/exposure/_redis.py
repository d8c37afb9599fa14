"""``RedisLedger``: exactly-once exposure across a fleet of processes and hosts."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["RedisLedger"]

# Delete the key only while it still holds our value: a discard never frees another
# request's reservation, even if ours expired and someone else's took its place.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

_NINETY_DAYS = 90 * 24 * 3600.0


class RedisLedger:
    """A :class:`~mixtrack.exposure.Ledger` on Redis: ``SET key value NX PX ttl``.

    ``url_or_client`` is a ``redis://`` URL or an existing ``redis.Redis`` client.
    ``ttl`` (seconds, default 90 days: longer than most experiments) bounds memory; None
    keeps keys forever. ``prefix`` namespaces the keys. With a URL, ``socket_timeout``
    bounds each call so an unreachable server costs a page at most that long before the
    fallback takes over (see :data:`~mixtrack.exposure.LedgerFallback`).

    Needs the ``redis`` package: ``pip install 'mixtrack[redis]'``.

    >>> ledger = RedisLedger("redis://127.0.0.1:6379/0", ttl=30 * 24 * 3600)  # doctest: +SKIP
    >>> experiments = Experiments(client, flags, ledger=ledger)  # doctest: +SKIP
    """

    def __init__(
        self,
        url_or_client: str | Any,
        *,
        ttl: float | None = _NINETY_DAYS,
        prefix: str = "mixtrack:",
        socket_timeout: float = 0.5,
    ) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
        if isinstance(url_or_client, str):
            try:
                redis: Any = importlib.import_module("redis")
            except ImportError:
                raise ImportError(
                    "RedisLedger needs the redis package: pip install 'mixtrack[redis]'"
                ) from None
            client = redis.Redis.from_url(
                url_or_client,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
            )
            self._url: str | None = url_or_client
        else:
            client = url_or_client
            self._url = None
        self.client: Any = client
        self.ttl = ttl
        self.prefix = prefix
        self._ttl_ms = None if ttl is None else max(1, int(ttl * 1000))
        self._release = client.register_script(_RELEASE)

    def add(self, key: str, value: str) -> bool:
        return bool(self.client.set(self.prefix + key, value, nx=True, px=self._ttl_ms))

    def get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + key)
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def release(self, key: str, value: str) -> bool:
        return int(self._release(keys=[self.prefix + key], args=[value])) == 1

    def close(self) -> None:
        """Close the connections of a client this ledger created from a URL."""
        if self._url is not None:
            self.client.close()

    def __repr__(self) -> str:
        where = self._url if self._url is not None else repr(self.client)
        return f"RedisLedger({where!r}, prefix={self.prefix!r})"
