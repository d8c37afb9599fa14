"""The message processors: what runs on each message between the call site and the queue.

A tracking plan's check (``plan=``, :class:`PlanCheck`) runs first, on the event as the app
made it; ``before_send=`` runs next. Each processor gets the message and returns it (changed
or not) or None to leave it out. Every outcome is counted, and nothing a processor does
reaches the caller but the plan's :class:`~mixtrack.OffPlanError` under ``invalid="raise"``:

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
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mixtrack._delivery.records import dumps
from mixtrack._delivery.stats import LogLimit
from mixtrack.errors import OffPlanError
from mixtrack.protocol.limits import MAX_EVENT_BYTES
from mixtrack.protocol.routes import Route

if TYPE_CHECKING:
    import os

    from mixtrack.plan import Plan

__all__ = ["MessageProcessors", "PlanCheck", "Processor", "missing"]

log = logging.getLogger("mixtrack")

Processor = Callable[[dict[str, Any]], "dict[str, Any] | None"]

#: What each endpoint's messages must keep, by where it sits.
_EVENT_KEYS = ("token", "distinct_id", "time")
_PROFILE_KEYS: dict[str, tuple[str, str]] = {
    "engage": ("$token", "$distinct_id"),
    "groups": ("$token", "$group_key"),
}
_REMEMBERED = 1024  # (event, reasons) pairs already logged by a plan check; past that, counted


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

    def __call__(self, route: Route, message: dict[str, Any]) -> bytes | None:
        """The record to queue, or None when the message is not to be sent (booked here)."""
        name = "before_send"
        for name, processor in self.processors:
            try:
                result = processor(message)
            except OffPlanError:
                raise  # the plan's strict mode refuses at the call, by design
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


class PlanCheck:
    """The processor of a client's tracking plan (``plan=``): each event is checked against it.

    With ``raising`` (``invalid="raise"``: tests, development) an off-plan event raises
    :class:`~mixtrack.OffPlanError` naming the event and every broken rule. Otherwise it is
    counted (``stats().off_plan``) and logged as a WARNING, once for each event and reason so
    a hot loop cannot flood the log, then passed on, or left out with ``drop``
    (``off_plan="drop"``, so also counted in ``stats().invalid``). Profile updates pass.

    >>> from mixtrack.plan import Entry, Plan
    >>> check = PlanCheck(Plan([Entry("event", "Signed up", {})]), raising=False, drop=True)
    >>> check({"event": "Signed upp", "properties": {}}), check.count
    (None, 1)
    """

    def __init__(self, plan: Plan, *, raising: bool, drop: bool) -> None:
        self.plan = plan
        self.raising = raising
        self.drop = drop
        self.count = 0
        self._lock = threading.Lock()
        self._logged: set[tuple[str, str]] = set()

    @classmethod
    def of(cls, plan: str | os.PathLike[str] | Plan, *, raising: bool, drop: bool) -> PlanCheck:
        """Loads ``plan`` (a :class:`~mixtrack.PlanError` when it cannot be read)."""
        from mixtrack.plan import Plan

        return cls(Plan.load(plan), raising=raising, drop=drop)

    def __call__(self, message: dict[str, Any]) -> dict[str, Any] | None:
        event = message.get("event")
        if not isinstance(event, str):
            return message  # a profile or group update: the plan checks events
        violations = self.plan.check(event, message.get("properties"))
        if not violations:
            return message
        if self.raising:
            raise OffPlanError(event, violations)
        reasons = "; ".join(v.reason for v in violations)
        with self._lock:
            self.count += 1
            key = (event, reasons)
            first = key not in self._logged and len(self._logged) < _REMEMBERED
            if first:
                self._logged.add(key)
        if first:
            log.warning(
                "event %r breaks the tracking plan (%s); %s. Counted in stats().off_plan; "
                "with invalid='raise' this raises OffPlanError at the call.",
                event,
                reasons,
                "dropped (off_plan='drop')" if self.drop else "sent anyway",
                extra={"mixtrack_event": event, "mixtrack_plan_reasons": reasons},
            )
        return None if self.drop else message
