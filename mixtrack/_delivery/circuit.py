"""When to try again: Mixpanel's backoff, and the circuit the senders of a client share.

Retried: connection errors, timeouts, 408, 429 and 5xx. The wait after the n-th failure in a
row is drawn between half and all of ``backoff_initial * 2**(n-1)``, capped at
``max_backoff`` (2 s doubling to 60 s by default, as Mixpanel advises); a ``Retry-After`` sent
by the collector is honoured instead.

While the collector is down, the :class:`Circuit` lets one request through at a time (the
*probe*), on that schedule; every other batch waits. The first answer closes the circuit and
every sender resumes at full speed. The circuit only admits: how soon attempts must happen is
the :class:`Deadline` of a flush or shutdown, passed to each sender next to it, which cuts
the waits so that a last attempt is made before it. Pure: the clock is passed in, nothing
sleeps here.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from mixtrack._config import Config

__all__ = ["Backoff", "Circuit", "Deadline"]


class Backoff:
    """The wait after ``failures`` failures in a row (jittered exponential, capped).

    >>> backoff = Backoff(initial=2.0, cap=60.0, rng=lambda: 1.0)
    >>> [backoff.wait(n) for n in (1, 2, 3, 6, 7)]
    [2.0, 4.0, 8.0, 60.0, 60.0]
    >>> backoff.wait(1, retry_after=30.0)
    30.0
    """

    def __init__(
        self, *, initial: float, cap: float, rng: Callable[[], float] = random.random
    ) -> None:
        self.initial = initial
        self.cap = cap
        self._rng = rng

    @classmethod
    def of(cls, config: Config) -> Backoff:
        return cls(initial=config.backoff_initial, cap=config.max_backoff)

    def wait(self, failures: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return float(retry_after)
        ceiling = min(self.cap, self.initial * 2 ** min(max(failures - 1, 0), 32))
        # "equal jitter": spread retries out, but never sooner than half the schedule
        return float(ceiling / 2 + self._rng() * ceiling / 2)


class _Listeners:
    """Callbacks for waiting senders (from any thread; they must not block)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Calls ``listener`` when waiting senders should look again. Returns the
        unsubscriber."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


class Circuit(_Listeners):
    """Is the collector up, and who probes it: the state all senders of one client share.
    Listeners are called when the circuit closes or a probe is let go. Thread-safe.

    >>> circuit = Circuit(Backoff(initial=2.0, cap=60.0, rng=lambda: 1.0))
    >>> circuit.admit(now=0.0)
    (True, 0.0)
    >>> circuit.failed(now=0.0, retry_after=None, probe=False)
    2.0
    >>> circuit.admit(now=1.0), circuit.admit(now=2.0), circuit.admit(now=2.5)
    ((False, 1.0), (True, 0.0), (False, 0.0))
    >>> circuit.answered(probe=True); circuit.admit(now=2.6)
    (True, 0.0)
    """

    def __init__(self, backoff: Backoff) -> None:
        super().__init__()
        self.backoff = backoff
        self._failures = 0
        self._probing = False
        self._next_probe = 0.0

    @property
    def down(self) -> bool:
        return self._failures > 0

    def admit(self, now: float) -> tuple[bool, float]:
        """May a sender attempt now? ``(True, 0)``: yes (as the probe while down);
        ``(False, s)``: look again in ``s`` seconds (0: when told, a probe is out)."""
        with self._lock:
            if not self._failures:
                return True, 0.0
            if self._probing:
                return False, 0.0
            if now >= self._next_probe:
                self._probing = True
                return True, 0.0
            return False, self._next_probe - now

    def answered(self, *, probe: bool) -> None:
        """The collector answered (whatever it said): full speed again."""
        with self._lock:
            was_down = self._failures > 0
            self._failures = 0
            self._probing = False
        if was_down:
            self._notify()

    def failed(self, now: float, retry_after: float | None, *, probe: bool) -> float:
        """An attempt failed (no answer, 408, 429, 5xx); returns the wait before the next."""
        with self._lock:
            if probe or not self._failures:
                self._failures += 1
                wait = self.backoff.wait(self._failures, retry_after)
                self._next_probe = now + wait
            else:  # a request already in flight when the circuit opened
                wait = max(self._next_probe - now, 0.0)
                if retry_after is not None:
                    wait = max(wait, retry_after)
                    self._next_probe = max(self._next_probe, now + retry_after)
            if probe:
                self._probing = False
            return wait

    def release(self, *, probe: bool) -> None:
        """A probe gave up without an answer (its batch was dropped or abandoned)."""
        if probe:
            with self._lock:
                self._probing = False
            self._notify()

    def probe_now(self, now: float) -> None:
        """The app asked for delivery now (a flush or shutdown): while the collector is down,
        one probe at once, so that a collector that came back meanwhile leaves the whole
        budget to the backlog."""
        with self._lock:
            if not self._failures or self._probing or self._next_probe <= now:
                return
            self._next_probe = now
        self._notify()


class Deadline(_Listeners):
    """How soon attempts must happen: the earliest deadline of the flushes under way, or of
    shutdown. Every wait is cut so that a last attempt happens before it; a ``final`` one
    (shutdown) drops what is left then. A flush that has returned no longer counts, so a
    later outage is probed one request at a time. Listeners are called when a deadline comes.
    Thread-safe.

    >>> deadline = Deadline()
    >>> deadline.hurry(10.0, now=0.0); deadline.until, deadline.budget
    (10.0, 10.0)
    >>> deadline.hurry(5.0, now=1.0); deadline.until, deadline.budget
    (5.0, 4.0)
    >>> deadline.done(5.0); deadline.until
    10.0
    >>> deadline.relax(now=11.0); deadline.until is None
    True
    """

    def __init__(self) -> None:
        super().__init__()
        #: the earliest deadline (monotonic) and whether it drops what is left
        self.until: float | None = None
        self.final = False
        #: the length of the budget ``until`` ends (for the time kept for a last attempt)
        self.budget = 0.0
        self._flushes: list[tuple[float, float]] = []  # (until, budget) of each under way

    def hurry(self, until: float, *, now: float, final: bool = False) -> None:
        """A flush or shutdown waits until ``until``; ``final`` (shutdown) drops what is
        left then."""
        with self._lock:
            if self.final:
                return
            if final:
                self.until, self.final, self.budget = until, True, until - now
            else:
                self._flushes = [flush for flush in self._flushes if flush[0] > now]
                self._flushes.append((until, until - now))
                if not self._earliest():
                    return
        self._notify()

    def done(self, until: float) -> None:
        """The flush that waited until ``until`` has returned."""
        with self._lock:
            for n, (flush_until, _) in enumerate(self._flushes):
                if flush_until == until:
                    del self._flushes[n]
                    break
            self._earliest()

    def relax(self, now: float) -> None:
        """Forgets the flush deadlines that have passed (shutdown's stays)."""
        with self._lock:
            self._flushes = [flush for flush in self._flushes if flush[0] > now]
            self._earliest()

    def _earliest(self) -> bool:
        """Sets ``until`` to the earliest flush deadline; True when it changed."""
        if self.final:
            return False
        until, budget = min(self._flushes, default=(None, 0.0))
        changed = until != self.until
        self.until, self.budget = until, budget
        return changed
