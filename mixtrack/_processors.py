"""The message processors: what runs on each message between the call site and the queue.

``before_send=`` is the first (and, for now, only) processor; a tracking plan's check takes
its place in the same list. Each processor gets the message and returns it (changed or not)
or None to leave it out. Every outcome is counted, and nothing a processor does reaches the
caller:

- None: the app chose not to send it; counted in ``stats().invalid`` with the other
  messages refused at the call site (a flush stays truthy);
- an exception: the message is dropped, ``"<name> error"`` in ``stats().drops`` (sending it
  unchanged could send what a scrubber was meant to remove);
- a message without what Mixpanel requires (event name, token, ids, time) or one JSON
  cannot carry: dropped, ``"<name> broke it"`` in ``stats().drops``.

>>> def scrub(message):
...     message["properties"].pop("$email", None)
...     return message
>>> client = mixtrack.Client("PROJECT_TOKEN", before_send=scrub)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from mixtrack._delivery.records import dumps
from mixtrack._delivery.stats import LogLimit
from mixtrack.protocol.limits import MAX_EVENT_BYTES
from mixtrack.protocol.routes import Route

__all__ = ["MessageProcessors", "Processor", "missing"]

log = logging.getLogger("mixtrack")

Processor = Callable[[dict[str, Any]], "dict[str, Any] | None"]

#: What each endpoint's messages must keep, by where it sits.
_EVENT_KEYS = ("token", "distinct_id", "time")
_PROFILE_KEYS: dict[str, tuple[str, str]] = {
    "engage": ("$token", "$distinct_id"),
    "groups": ("$token", "$group_key"),
}


def missing(route: Route, message: object, token: str) -> str:
    """What a message lacks that Mixpanel requires ("" when nothing).

    >>> missing("track", {"event": "E", "properties": {"token": "t"}}, "t")
    'properties.distinct_id'
    """
    if not isinstance(message, dict):
        return f"a dict (got {type(message).__name__})"
    if route in ("import", "track"):
        event = message.get("event")
        if type(event) is not str or not event or len(event) > 255:
            return "event (a name of 1 to 255 characters)"
        properties = message.get("properties")
        if not isinstance(properties, dict):
            return "properties"
        if properties.get("token") != token:
            return "properties.token (this client's token)"
        for key in _EVENT_KEYS[1:]:
            if key not in properties:
                return f"properties.{key}"
        if route == "import" and not properties.get("$insert_id"):
            return "properties.$insert_id"
        return ""
    token_key, id_key = _PROFILE_KEYS.get(route, ("$token", "$distinct_id"))
    if message.get(token_key) != token:
        return f"{token_key} (this client's token)"
    return "" if id_key in message else id_key


class MessageProcessors:
    """The processors of one client, in order, with the books of what they did.

    ``refuse(route, record, cause, detail)`` books a dropped message; ``leave_out()`` one
    the app chose not to send.
    """

    def __init__(
        self,
        processors: Sequence[tuple[str, Processor]],
        token: str,
        refuse: Callable[[Route, bytes, str, str], None],
        leave_out: Callable[[], None],
    ) -> None:
        self.processors = list(processors)
        self._token = token
        self._refuse = refuse
        self._leave_out = leave_out
        self._warnings = LogLimit()

    def __bool__(self) -> bool:
        return bool(self.processors)

    def __call__(self, route: Route, message: dict[str, Any]) -> bytes | None:
        """The record to queue, or None when the message is not to be sent (booked here)."""
        name = "before_send"
        for name, processor in self.processors:
            try:
                result = processor(message)
            except Exception as exc:
                self._drop(route, message, f"{name} error", f"{type(exc).__name__}: {exc}")
                return None
            if result is None:
                self._leave_out()
                return None
            lacks = missing(route, result, self._token)
            if lacks:
                self._drop(route, message, f"{name} broke it", f"the message lost {lacks}")
                return None
            message = result
        try:
            record = dumps(message)
        except (TypeError, ValueError) as exc:
            self._drop(route, {}, f"{name} broke it", f"not JSON: {exc}")
            return None
        if len(record) >= MAX_EVENT_BYTES:
            self._drop(route, {}, f"{name} broke it", f"{len(record)} bytes of JSON")
            return None
        return record

    def _drop(self, route: Route, message: dict[str, Any], cause: str, detail: str) -> None:
        try:
            record = dumps(message)
        except (TypeError, ValueError):
            record = b"{}"
        self._refuse(route, record, cause, detail)
        due, _, total, _ = self._warnings.due(cause)
        if due:
            log.warning("dropped a message (%s): %s; %d so far", cause, detail, total)
