"""What one client can take from the collector: connections, idle time, bytes in memory."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import attrs


@attrs.frozen
class ServerLimits:
    """What one client can take from the collector; defaults a laptop survives.

    >>> ServerLimits().max_connections
    128
    """

    #: Seconds a connection may sit idle (between requests, or in a half-sent one).
    idle_timeout: float = 30.0
    #: Connections served at once; one more is answered 503 with ``Retry-After: 1``.
    max_connections: int = 128
    #: Request bodies held in memory at once, all connections together; a body that would
    #: pass it is answered 503 with ``Retry-After: 1``.
    max_buffered_bytes: int = 256 * 1024 * 1024


#: The answer when a limit shared by all connections is reached.
BUSY = (503, "the collector is busy with other large requests; retry shortly")


class Budget:
    """Bytes of request bodies in memory, shared by all connections."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self) -> Iterator[Held]:
        held = Held(self)
        try:
            yield held
        finally:
            with self.lock:
                self.used -= held.amount


class Held:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.amount = 0

    def take(self, size: int) -> bool:
        with self.budget.lock:
            if self.budget.used + size > self.budget.total:
                return False
            self.budget.used += size
        self.amount += size
        return True
