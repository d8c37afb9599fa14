"""The calls of Client and AsyncClient: each builds one Mixpanel message and enqueues it.

Shared by the sync and asyncio clients; only ``_enqueue`` differs. Every call validates at the
call site and never does I/O. What cannot be sent goes to the client's ``invalid`` policy
(``mixtrack._invalid``): left out and counted, or a :class:`~mixtrack.ValidationError`.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mixtrack._config import Config
from mixtrack._context import _current
from mixtrack._delivery.messages import (
    LIB,
    LIB_VERSION,
    InsertIds,
    check_event_name,
    check_insert_id,
    coerce_distinct_id,
    encode_properties,
    event_time_ms,
    merge_properties,
)
from mixtrack._delivery.records import dumps
from mixtrack._invalid import InvalidValues, refusable
from mixtrack._processors import MessageProcessors
from mixtrack.errors import ValidationError
from mixtrack.protocol.limits import MAX_EVENT_BYTES, MIN_IMPORT_MS
from mixtrack.protocol.messages import (
    ALIAS_EVENT,
    DENIED_IDS,
    IDENTIFY_EVENT,
    MERGE_EVENT,
    RESERVED_EVENT_KEYS,
)
from mixtrack.protocol.routes import Route

__all__ = ["Calls"]

Properties = Mapping[str, Any]
_OVERRIDES = RESERVED_EVENT_KEYS
_current_context = _current.get  # current_context(), one call less on the hot path
_time_ns = _time.time_ns


class Calls:
    """Message-building methods. Subclasses set ``config`` and implement ``_enqueue``."""

    config: Config
    _insert_ids: InsertIds
    _super: dict[str, Any]
    _invalid: InvalidValues
    _processors: MessageProcessors | None  # None when there are none

    def _enqueue(self, route: Route, record: bytes) -> None:
        raise NotImplementedError

    def _put(self, route: Route, message: dict[str, Any]) -> None:
        # serialized once, here: the queue, the batch body and the spool all use these bytes
        processors = self._processors
        if processors is not None:  # a disabled client runs the plan's check only
            processed = processors(route, message)  # books what it does not pass
            if processed is None:
                return
            record = processed
        else:
            record = dumps(message)
            if len(record) >= MAX_EVENT_BYTES:
                _too_big(record)
        if self.config.disabled:
            return  # validated as usual; nothing is queued or sent
        self._enqueue(route, record)

    # -- super properties ----------------------------------------------------------------

    def register(self, properties: Properties) -> None:
        """Adds super properties: sent with every event from this client (calls win)."""
        merged = dict(self._super)
        try:
            merge_properties(merged, properties, what="super properties")
        except ValidationError as exc:
            self._invalid.left_out(merged, properties, "(super properties)", exc)
        # replaced, never mutated: track() reads it without a lock
        self._super = merged

    def unregister(self, *names: str) -> None:
        """Removes super properties by name."""
        kept = {k: v for k, v in self._super.items() if k not in names}
        self._super = kept

    # -- events --------------------------------------------------------------------------

    def _event(
        self,
        distinct_id: object,
        event: object,
        properties: Properties | None,
        time: object,
        insert_id: object,
    ) -> dict[str, Any]:
        """The event message. This is track()'s hot path."""
        if type(event) is not str or not event or len(event) > 255:
            check_event_name(event)
        ctx = _current_context()
        if distinct_id is None:
            distinct_id = ctx.distinct_id
        if (
            type(distinct_id) is not str
            or not distinct_id
            or distinct_id.strip().lower() in DENIED_IDS
        ):
            distinct_id = coerce_distinct_id(distinct_id)
        props: dict[str, Any] = {
            "token": self.config.token,
            "distinct_id": distinct_id,
            "time": _time_ns() // 1_000_000 if time is None else event_time_ms(time),
            "$insert_id": (
                next(self._insert_ids.stream) if insert_id is None else check_insert_id(insert_id)
            ),
            "mp_lib": LIB,
            "$lib_version": LIB_VERSION,
        }
        if self._super:
            props.update(self._super)
        if ctx.properties:
            props.update(ctx.properties)
        if properties:
            try:
                merge_properties(props, properties)
            except ValidationError as exc:
                self._invalid.left_out(props, properties, str(event), exc, _OVERRIDES)
                properties = properties if isinstance(properties, Mapping) else {}
            # properties may set time, $insert_id and distinct_id, as with mixpanel-python
            if not _OVERRIDES.isdisjoint(properties):
                if "time" in properties:
                    props["time"] = event_time_ms(properties["time"])
                if "$insert_id" in properties:
                    check_insert_id(properties["$insert_id"])
                if "distinct_id" in properties:
                    props["distinct_id"] = coerce_distinct_id(properties["distinct_id"])
        return {"event": event, "properties": props}

    def track(
        self,
        distinct_id: str | int | None,
        event: str,
        properties: Properties | None = None,
        *,
        time: Any = None,
        insert_id: str | None = None,
    ) -> None:
        """Records an event. Returns at once; delivery happens in the background.

        ``distinct_id`` may be None inside ``mixtrack.context(distinct_id=...)``. ``time`` is
        a datetime or epoch seconds/milliseconds (default: now); ``insert_id`` (≤36 characters
        of ``[A-Za-z0-9-]``) is generated when not given, so retries never duplicate.

        >>> client.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP
        """
        # _put and the invalid policy inlined rather than @refusable: this is the hot path
        processors = self._processors
        try:
            message = self._event(distinct_id, event, properties, time, insert_id)
            if processors is None:
                record = dumps(message)
                if len(record) >= MAX_EVENT_BYTES:
                    _too_big(record)
        except ValidationError as exc:
            self._invalid.refused("track", event, exc)
            return
        if processors is not None:
            processed = processors(self.config.endpoint, message)
            if processed is None:
                return  # left out or dropped, and booked
            record = processed
        if self.config.disabled:
            return
        self._enqueue(self.config.endpoint, record)

    @refusable
    def import_event(
        self,
        distinct_id: str | int,
        event: str,
        timestamp: Any,
        properties: Properties | None = None,
        *,
        insert_id: str | None = None,
    ) -> None:
        """Records a historical event through ``/import`` (any time from 1971 to now + 1 h).

        >>> client.import_event("user-42", "Purchased", datetime(2021, 5, 1), {"sku": "A1"})
        ... # doctest: +SKIP
        """
        if timestamp is None:
            raise ValidationError("import_event needs a timestamp (datetime or epoch seconds)")
        message = self._event(distinct_id, event, properties, timestamp, insert_id)
        when = message["properties"]["time"]
        if not MIN_IMPORT_MS <= when <= (_time.time() + 3600) * 1000:
            raise ValidationError(
                f"import_event timestamp {timestamp!r} is out of range: /import accepts times "
                "from 1971-01-01 to one hour from now"
            )
        self._put("import", message)

    @refusable
    def identify(self, distinct_id: str | int, anon_id: str | int) -> None:
        """Links an anonymous id to a known user (``$identify``), as on login.

        >>> client.identify("user-42", anon_id="anon-7f3")  # doctest: +SKIP
        """
        user = coerce_distinct_id(distinct_id)
        anon = coerce_distinct_id(anon_id, what="anon_id")
        message = self._event(
            user,
            IDENTIFY_EVENT,
            {"$identified_id": user, "$anon_id": anon, "$anon_distinct_id": anon},
            None,
            None,
        )
        self._put("track", message)

    @refusable
    def alias(self, alias_id: str | int, original: str | int) -> None:
        """Creates an alias (``$create_alias``), argument order as in mixpanel-python.

        >>> client.alias("user-42", "anon-7f3")  # doctest: +SKIP
        """
        alias = coerce_distinct_id(alias_id, what="alias_id")
        message = self._event(original, ALIAS_EVENT, {"alias": alias}, None, None)
        self._put("track", message)

    @refusable
    def merge(self, distinct_id1: str | int, distinct_id2: str | int) -> None:
        """Merges two identities (``$merge`` on ``/import``; needs ``api_secret``)."""
        ids = [coerce_distinct_id(distinct_id1), coerce_distinct_id(distinct_id2)]
        message = {
            "event": MERGE_EVENT,
            "properties": {"$distinct_ids": ids, "token": self.config.token},
        }
        self._put("import", message)

    # -- profiles ------------------------------------------------------------------------

    def _profile(
        self, distinct_id: object, operation: str, value: Any, meta: Properties | None
    ) -> None:
        message: dict[str, Any] = {
            "$token": self.config.token,
            "$distinct_id": coerce_distinct_id(distinct_id),
            "$time": int(_time.time() * 1000),
        }
        if meta:
            message.update(encode_properties(meta, what="meta"))
        message[operation] = value
        self._put("engage", message)

    @refusable
    def people_set(
        self, distinct_id: str | int, properties: Properties, *, meta: Properties | None = None
    ) -> None:
        """Sets profile properties (``$set``).

        >>> client.people_set("user-42", {"$email": "ada@example.com"})  # doctest: +SKIP
        """
        self._profile(distinct_id, "$set", _props(properties, "$set"), meta)

    @refusable
    def people_set_once(
        self, distinct_id: str | int, properties: Properties, *, meta: Properties | None = None
    ) -> None:
        """Sets profile properties that are not set yet (``$set_once``)."""
        self._profile(distinct_id, "$set_once", _props(properties, "$set_once"), meta)

    @refusable
    def people_increment(
        self,
        distinct_id: str | int,
        properties: Mapping[str, float],
        *,
        meta: Properties | None = None,
    ) -> None:
        """Adds to numeric profile properties (``$add``)."""
        self._profile(distinct_id, "$add", _numbers(properties, "$add"), meta)

    @refusable
    def people_append(
        self, distinct_id: str | int, properties: Properties, *, meta: Properties | None = None
    ) -> None:
        """Appends values to list properties (``$append``)."""
        self._profile(distinct_id, "$append", _props(properties, "$append"), meta)

    @refusable
    def people_union(
        self,
        distinct_id: str | int,
        properties: Mapping[str, Sequence[Any]],
        *,
        meta: Properties | None = None,
    ) -> None:
        """Adds values to list properties unless present (``$union``)."""
        self._profile(distinct_id, "$union", _lists(properties, "$union"), meta)

    @refusable
    def people_remove(
        self, distinct_id: str | int, properties: Properties, *, meta: Properties | None = None
    ) -> None:
        """Removes values from list properties (``$remove``)."""
        self._profile(distinct_id, "$remove", _props(properties, "$remove"), meta)

    @refusable
    def people_unset(
        self, distinct_id: str | int, properties: Iterable[str], *, meta: Properties | None = None
    ) -> None:
        """Removes properties from a profile (``$unset``), given their names."""
        self._profile(distinct_id, "$unset", _names(properties, "$unset"), meta)

    @refusable
    def people_delete(self, distinct_id: str | int, *, meta: Properties | None = None) -> None:
        """Deletes a profile (``$delete``)."""
        self._profile(distinct_id, "$delete", "", meta)

    @refusable
    def people_track_charge(
        self,
        distinct_id: str | int,
        amount: float,
        properties: Properties | None = None,
        *,
        meta: Properties | None = None,
    ) -> None:
        """Records revenue: appends ``{"$amount": amount, ...}`` to ``$transactions``."""
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise ValidationError(f"amount must be a number, got {amount!r:.80}")
        transaction = encode_properties(properties, what="charge properties")
        transaction["$amount"] = amount
        self._profile(distinct_id, "$append", {"$transactions": transaction}, meta)

    @refusable
    def people_clear_charges(
        self, distinct_id: str | int, *, meta: Properties | None = None
    ) -> None:
        """Removes all recorded revenue from a profile."""
        self._profile(distinct_id, "$unset", ["$transactions"], meta)

    # -- groups --------------------------------------------------------------------------

    def _group(
        self,
        group_key: object,
        group_id: object,
        operation: str,
        value: Any,
        meta: Properties | None,
    ) -> None:
        if type(group_key) is not str or not group_key:
            raise ValidationError(f"group_key must be a non-empty str, got {group_key!r:.80}")
        message: dict[str, Any] = {
            "$token": self.config.token,
            "$group_key": group_key,
            "$group_id": coerce_distinct_id(group_id, what="group_id"),
            "$time": int(_time.time() * 1000),
        }
        if meta:
            message.update(encode_properties(meta, what="meta"))
        message[operation] = value
        self._put("groups", message)

    @refusable
    def group_set(
        self,
        group_key: str,
        group_id: str | int,
        properties: Properties,
        *,
        meta: Properties | None = None,
    ) -> None:
        """Sets group profile properties (``$set``).

        >>> client.group_set("company", "acme", {"plan": "enterprise"})  # doctest: +SKIP
        """
        self._group(group_key, group_id, "$set", _props(properties, "$set"), meta)

    @refusable
    def group_set_once(
        self,
        group_key: str,
        group_id: str | int,
        properties: Properties,
        *,
        meta: Properties | None = None,
    ) -> None:
        """Sets group properties that are not set yet (``$set_once``)."""
        self._group(group_key, group_id, "$set_once", _props(properties, "$set_once"), meta)

    @refusable
    def group_union(
        self,
        group_key: str,
        group_id: str | int,
        properties: Mapping[str, Sequence[Any]],
        *,
        meta: Properties | None = None,
    ) -> None:
        """Adds values to group list properties unless present (``$union``)."""
        self._group(group_key, group_id, "$union", _lists(properties, "$union"), meta)

    @refusable
    def group_remove(
        self,
        group_key: str,
        group_id: str | int,
        properties: Properties,
        *,
        meta: Properties | None = None,
    ) -> None:
        """Removes values from group list properties (``$remove``)."""
        self._group(group_key, group_id, "$remove", _props(properties, "$remove"), meta)

    @refusable
    def group_unset(
        self,
        group_key: str,
        group_id: str | int,
        properties: Iterable[str],
        *,
        meta: Properties | None = None,
    ) -> None:
        """Removes properties from a group profile (``$unset``), given their names."""
        self._group(group_key, group_id, "$unset", _names(properties, "$unset"), meta)

    @refusable
    def group_delete(
        self, group_key: str, group_id: str | int, *, meta: Properties | None = None
    ) -> None:
        """Deletes a group profile (``$delete``)."""
        self._group(group_key, group_id, "$delete", "", meta)


def _too_big(record: bytes) -> None:
    raise ValidationError(
        f"message is {len(record)} bytes of JSON; Mixpanel refuses messages of "
        f"{MAX_EVENT_BYTES} bytes and more: send less, or split it"
    )


def _props(properties: Properties, op: str) -> dict[str, Any]:
    if not isinstance(properties, Mapping) or not properties:
        raise ValidationError(f"{op} needs a non-empty dict of properties, got {properties!r:.80}")
    return encode_properties(properties, what=f"{op} properties")


def _numbers(properties: Mapping[str, float], op: str) -> dict[str, Any]:
    values = _props(properties, op)
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(f"{op} property {key!r} must be a number, got {value!r:.80}")
    return values


def _lists(properties: Mapping[str, Sequence[Any]], op: str) -> dict[str, Any]:
    values = _props(properties, op)
    for key, value in values.items():
        if not isinstance(value, list):
            raise ValidationError(f"{op} property {key!r} must be a list, got {value!r:.80}")
    return values


def _names(names: Iterable[str], op: str) -> list[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise ValidationError(f"{op} needs a list of property names, got {names!r:.80}")
    result = list(names)
    for name in result:
        if type(name) is not str or not name:
            raise ValidationError(f"{op} property names must be non-empty str, got {name!r:.80}")
    return result
