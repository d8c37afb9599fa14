"""Injected faults: what ``POST /_mixtrack/faults`` asks for, and which request gets which.

A fault lasts for ``count`` requests or ``seconds`` (whichever ends first; one request when
neither is given) and can be scoped to endpoints. Kinds:

``status``     answer ``status`` (default 503) with an optional ``Retry-After``
``delay``      wait ``delay`` seconds, then handle the request normally
``hang``       never answer; the connection is dropped when the fault ends or the server stops
``reset``      reset the connection (TCP RST) without answering
``too_large``  answer 413 as Mixpanel does for an oversize request
``partial``    refuse the records at ``indices`` (or a ``fraction`` of them) with a 400
               ``failed_records`` answer; the other records are stored

Any fault may also carry ``delay``, applied before it acts.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

from mixtrack.protocol.decode import ENDPOINTS

KINDS = ("status", "delay", "hang", "reset", "too_large", "partial")
_FIELDS = {
    "kind",
    "status",
    "retry_after",
    "delay",
    "count",
    "seconds",
    "endpoints",
    "indices",
    "fraction",
}


@attrs.frozen
class Fault:
    kind: str
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    count: int | None = None
    seconds: float | None = None
    endpoints: tuple[str, ...] = ()
    indices: tuple[int, ...] = ()
    fraction: float = 0.0

    def rejects(self, index: int) -> bool:
        """Whether a ``partial`` fault refuses the record at ``index``."""
        if index in self.indices:
            return True
        # Evenly spread: record i is refused when the running share crosses a whole number.
        return int((index + 1) * self.fraction) > int(index * self.fraction)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "count": self.count,
            "seconds": self.seconds,
            "endpoints": list(self.endpoints),
            "indices": list(self.indices),
            "fraction": self.fraction,
        }


def parse(spec: Any) -> Fault:
    """A :class:`Fault` from its JSON form; ``ValueError`` names the bad field and value."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"a fault must be a JSON object, got {spec!r}")
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fault fields {sorted(unknown)}; known: {sorted(_FIELDS)}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"fault kind must be one of {', '.join(KINDS)}; got {kind!r}")
    status = _number(spec, "status", 503, int)
    if not 100 <= status <= 599:
        raise ValueError(f"fault status must be an HTTP status (100-599), got {status!r}")
    endpoints = spec.get("endpoints") or ()
    if isinstance(endpoints, str):
        endpoints = (endpoints,)
    names = tuple(str(name).strip("/") for name in endpoints)
    for name in names:
        if name not in ENDPOINTS:
            raise ValueError(f"fault endpoint must be one of {', '.join(ENDPOINTS)}; got {name!r}")
    count = spec.get("count")
    seconds = spec.get("seconds")
    if count is None and seconds is None:
        count = 1
    fraction = _number(spec, "fraction", 0.0, float)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fault fraction must be between 0 and 1, got {fraction!r}")
    indices = spec.get("indices") or ()
    if not isinstance(indices, (list, tuple)) or not all(
        isinstance(i, int) and i >= 0 for i in indices
    ):
        raise ValueError(f"fault indices must be a list of record indices, got {indices!r}")
    retry_after = spec.get("retry_after")
    return Fault(
        kind=kind,
        status=413 if kind == "too_large" else status,
        retry_after=None if retry_after is None else _number(spec, "retry_after", 0.0, float),
        delay=_number(spec, "delay", 0.0, float),
        count=None if count is None else _number({"count": count}, "count", 1, int),
        seconds=None if seconds is None else _number(spec, "seconds", 0.0, float),
        endpoints=names,
        indices=tuple(indices),
        fraction=fraction,
    )


#: The longest a fault may last, delay or ask clients to wait: one day.
MAX_SECONDS = 86_400.0
#: Most requests a fault may count.
MAX_COUNT = 1_000_000_000


def _number(spec: Mapping[str, Any], name: str, default: Any, kind: type) -> Any:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"fault {name} must be a non-negative number, got {value!r}")
    ceiling = MAX_COUNT if name in ("count", "status") else MAX_SECONDS
    if name != "fraction" and value > ceiling:
        raise ValueError(f"fault {name} must be at most {ceiling:g}, got {value!r}")
    if kind is int and value != int(value):
        raise ValueError(f"fault {name} must be a whole number, got {value!r}")
    return kind(value)


@attrs.define
class _Active:
    id: int
    fault: Fault
    remaining: int | None
    expires_at: float | None
    ended: threading.Event = attrs.field(factory=threading.Event)


class FaultBoard:
    """The faults in force; thread-safe. Each request takes at most one fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[_Active] = []
        # Hang faults used up by their count still hold requests until cleared.
        self._spent_hangs: list[_Active] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> int:
        expires = None if fault.seconds is None else time.monotonic() + fault.seconds
        with self._lock:
            entry = _Active(next(self._ids), fault, fault.count, expires)
            self._active.append(entry)
            return entry.id

    def take(self, endpoint: str) -> tuple[Fault, threading.Event] | None:
        """The fault for a request to ``endpoint``, if any, and an event set when it ends."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            for entry in self._active:
                if entry.fault.endpoints and endpoint not in entry.fault.endpoints:
                    continue
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._active.remove(entry)
                        if entry.fault.kind == "hang":
                            self._spent_hangs.append(entry)
                        else:
                            entry.ended.set()
                return entry.fault, entry.ended
        return None

    def wait_out(self, ended: threading.Event, fault: Fault, stopping: threading.Event) -> None:
        """Block a hung request until its fault ends (cleared, expired) or the server stops."""
        deadline = None if fault.seconds is None else time.monotonic() + fault.seconds
        while not (ended.is_set() or stopping.is_set()):
            if deadline is not None and time.monotonic() >= deadline:
                return
            ended.wait(0.05)

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            self._expire(time.monotonic())
            return [
                {"id": e.id, "remaining": e.remaining, **e.fault.as_json()} for e in self._active
            ]

    def clear(self) -> int:
        with self._lock:
            cleared, self._active = self._active, []
            spent, self._spent_hangs = self._spent_hangs, []
        for entry in cleared + spent:
            entry.ended.set()
        return len(cleared)

    def _expire(self, now: float) -> None:
        for entry in [e for e in self._active if e.expires_at is not None and e.expires_at <= now]:
            self._active.remove(entry)
            entry.ended.set()
