"""What a client does with a value it cannot send: leave it out and say so, or raise.

With ``invalid="drop"`` (the default) a property whose value JSON cannot carry is left out of
the event, which is still sent; a message whose name, distinct_id, time or insert id cannot be
sent is not sent at all. Either way ``stats().invalid`` counts it and a WARNING on the
``mixtrack`` logger names the event, the property and the type: the first time for each event
and property, and at most :data:`WARNINGS_PER_MINUTE` a minute, so a hot loop cannot flood the
log. With ``invalid="raise"`` the call raises :class:`~mixtrack.ValidationError` instead.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from mixtrack._delivery.messages import merge_properties
from mixtrack.errors import ValidationError
from mixtrack.protocol.limits import MAX_PROPERTIES

__all__ = ["InvalidValues", "refusable"]

log = logging.getLogger("mixtrack")

WARNINGS_PER_MINUTE = 10
_REMEMBERED = 4096  # (event, property) pairs already warned about; the oldest are forgotten
_EVENT_CALLS = frozenset({"track", "import_event"})


class InvalidValues:
    """The drop-and-warn policy of one client, and its count.

    >>> policy = InvalidValues("drop")
    >>> props = {}
    >>> policy.left_out(props, {"plan": "pro", "user": object()}, "Viewed", ValidationError("x"))
    ... # doctest: +SKIP
    >>> props, policy.count  # doctest: +SKIP
    ({'plan': 'pro'}, 1)
    """

    def __init__(self, mode: str) -> None:
        self.raising = mode == "raise"
        self.count = 0
        self._lock = threading.Lock()
        self._warned: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._window_start = time.monotonic()
        self._in_window = 0
        self._unlogged = 0

    def left_out(
        self,
        target: dict[str, Any],
        properties: object,
        event: str,
        error: ValidationError,
        identifying: Collection[str] = (),
    ) -> None:
        """Merges what can be sent of ``properties`` into ``target`` after ``error`` stopped
        the fast path. Raises when strict, and
        when an ``identifying`` property (an event's own time or id) is the bad one: without
        it the message would say something else, so the caller refuses it whole."""
        if self.raising:
            raise error
        if not isinstance(properties, Mapping):
            self._record(event, "(all properties)", type(properties).__name__, str(error))
            return
        for key, value in properties.items():
            one: dict[str, Any] = {}  # one at a time: the limit on their number comes below
            try:
                merge_properties(one, {key: value})
            except ValidationError as exc:
                if key in identifying:
                    raise
                self._record(event, repr(key), type(value).__name__, str(exc))
            else:
                target.update(one)
        # the property limit: the last properties given are the ones left out
        for key in reversed(list(properties)):
            if len(target) <= MAX_PROPERTIES:
                break
            if target.pop(key, _MISSING) is not _MISSING:
                reason = f"the event has more than {MAX_PROPERTIES} properties"
                self._record(event, repr(key), type(properties[key]).__name__, reason)

    def skipped(self) -> None:
        """Counts a message the app chose not to send (``before_send`` returned None)."""
        with self._lock:
            self.count += 1

    def refused(self, call: str, event: object, error: ValidationError) -> None:
        """A whole message cannot be sent: counted and logged, or raised when strict."""
        if self.raising:
            raise error
        label = f"{call}({event!r:.80})" if isinstance(event, str) else f"{call}()"
        with self._lock:
            self.count += 1
            line = self._admit((label, ""))
        if line is not None:
            log.warning(
                "%s not sent: %s. Counted in stats().invalid; with invalid='raise' "
                "this raises ValidationError at the call.%s",
                label,
                error,
                line,
                extra={"mixtrack_call": call, "mixtrack_event": event},
            )

    def _record(self, event: str, prop: str, kind: str, reason: str) -> None:
        with self._lock:
            self.count += 1
            line = self._admit((event, prop))
        if line is not None:
            log.warning(
                "left property %s (type %s) out of event %r, which is still sent: %s. "
                "Counted in stats().invalid; with invalid='raise' this raises ValidationError "
                "at the call.%s",
                prop,
                kind,
                event,
                reason,
                line,
                extra={"mixtrack_event": event, "mixtrack_property": prop, "mixtrack_type": kind},
            )

    def _admit(self, key: tuple[str, str]) -> str | None:
        """Whether to log (under the lock): None for a pair already logged, or when this
        minute's warnings are spent (the pair is then logged on a later occurrence); else a
        note about the warnings left unlogged since the last one."""
        if key in self._warned:
            self._warned.move_to_end(key)
            return None
        now = time.monotonic()
        if now - self._window_start >= 60.0:
            self._window_start, self._in_window = now, 0
        if self._in_window >= WARNINGS_PER_MINUTE:
            self._unlogged += 1
            return None
        self._in_window += 1
        self._warned[key] = None
        if len(self._warned) > _REMEMBERED:
            self._warned.popitem(last=False)
        unlogged, self._unlogged = self._unlogged, 0
        return f" ({unlogged} more invalid values were not logged.)" if unlogged else ""


_MISSING = object()


class _Guarded(Protocol):
    _invalid: InvalidValues


S = TypeVar("S", bound=_Guarded)
P = ParamSpec("P")


def refusable(method: Callable[Concatenate[S, P], None]) -> Callable[Concatenate[S, P], None]:
    """Decorates a client call: a ValidationError it raises is handed to the client's policy,
    which drops the message (counted, logged) or raises it again when strict."""
    call = method.__name__

    @functools.wraps(method)
    def guarded(self: S, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(self, *args, **kwargs)
        except ValidationError as exc:
            event = kwargs.get("event", args[1] if len(args) > 1 else None)
            self._invalid.refused(call, event if call in _EVENT_CALLS else None, exc)

    return guarded
