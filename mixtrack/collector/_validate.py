"""Mixpanel's record rules, as pure functions: each record is accepted or gets a FailedRecord.

Rules follow Mixpanel's ingestion reference: an event needs a name, a ``distinct_id`` (the
empty string is allowed; a denylist of placeholder ids is not), a token, a ``time`` in range
(/track: the last 5 days; /import: from 1971 to an hour ahead, seconds or milliseconds), an
``$insert_id`` of at most 36 bytes of ``[A-Za-z0-9-]``, at most 255 properties, and nested
values of at most 255 keys or elements and depth 3. Profile and group updates need their ids,
a token and exactly one known operation with a value of the right type.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import attrs

from mixtrack.collector._responses import FailedRecord
from mixtrack.protocol.json_values import Malformed
from mixtrack.protocol.messages import DENIED_IDS

TRACK_WINDOW = 5 * 24 * 3600
FUTURE_SLACK = 3600
EARLIEST = 31_536_000.0  # 1971-01-01T00:00:00Z
MAX_PROPERTIES = 255
MAX_NESTED = 255
MAX_DEPTH = 3
INSERT_ID = re.compile(r"[A-Za-z0-9-]{1,36}")
PROFILE_OPS = ("$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete")


@attrs.frozen
class Event:
    """An accepted event. ``time`` is in seconds; ``properties`` are kept as sent."""

    name: str
    distinct_id: str
    time: float
    insert_id: str | None
    token: str
    properties: dict[str, Any]


@attrs.frozen
class Update:
    """An accepted profile (``group_key`` empty) or group update: one operation."""

    token: str
    id: str
    op: str
    value: Any
    group_key: str = ""


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message


@attrs.frozen
class Rules:
    """What the collector was told to accept; an empty ``tokens`` accepts any token."""

    tokens: Collection[str] = ()
    now: float = 0.0


def events(
    records: list[Any], *, endpoint: str, rules: Rules, auth_token: str | None = None
) -> list[Event | FailedRecord]:
    """Check each record; the result has one entry per record, in order."""
    results: list[Event | FailedRecord] = []
    for index, record in enumerate(records):
        try:
            results.append(_event(record, endpoint, rules, auth_token))
        except _Refused as refused:
            results.append(
                FailedRecord(index, _insert_id_of(record), refused.field, refused.message)
            )
    return results


def updates(records: list[Any], *, endpoint: str, rules: Rules) -> list[Update | FailedRecord]:
    """Check /engage (``endpoint="engage"``) or /groups records, one entry per record."""
    results: list[Update | FailedRecord] = []
    for index, record in enumerate(records):
        try:
            results.append(_update(record, endpoint, rules))
        except _Refused as refused:
            results.append(FailedRecord(index, "", refused.field, refused.message))
    return results


def _event(record: Any, endpoint: str, rules: Rules, auth_token: str | None) -> Event:
    if isinstance(record, Malformed):
        raise _Refused("", record.message)
    if not isinstance(record, dict):
        raise _Refused("", f"each event must be a JSON object, got {_type(record)}")
    name = record.get("event")
    if not isinstance(name, str) or not name:
        raise _Refused("event", f"'event' must be a non-empty string, got {name!r}")
    props = record.get("properties")
    if not isinstance(props, dict):
        raise _Refused("properties", f"'properties' must be a JSON object, got {_type(props)}")
    token = _token(props.get("token"), auth_token, "properties.token", rules)
    distinct_id = _event_distinct_id(name, props)
    # mixpanel-python posts $merge to /import without a time; Mixpanel takes it as "now".
    time = _time(props.get("time"), "track" if name == "$merge" else endpoint, rules.now)
    insert_id = props.get("$insert_id")
    if insert_id is not None and (
        not isinstance(insert_id, str) or not INSERT_ID.fullmatch(insert_id)
    ):
        raise _Refused(
            "properties.$insert_id",
            f"'$insert_id' must be 1 to 36 characters of A-Z, a-z, 0-9 and '-', got {insert_id!r}",
        )
    if len(props) > MAX_PROPERTIES:
        raise _Refused(
            "properties",
            f"event has {len(props)} properties; the limit is {MAX_PROPERTIES}",
        )
    for key, value in props.items():
        if type(value) in (dict, list):
            _nested(value, f"properties.{key}", 1)
    return Event(name, distinct_id, time, insert_id, token, props)


def _event_distinct_id(name: str, props: dict[str, Any]) -> str:
    if "distinct_id" not in props:
        if name == "$merge" and isinstance(props.get("$distinct_ids"), list):
            ids = props["$distinct_ids"]
            return str(ids[0]) if ids else ""
        raise _Refused("properties.distinct_id", "'distinct_id' is missing")
    return _id(props["distinct_id"], "properties.distinct_id")


def _id(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Refused(field, f"'{field}' must be a string or a number, got {_type(value)}")
    text = str(value)
    if text.strip().lower() in DENIED_IDS:
        raise _Refused(field, f"'{field}' {text!r} is a placeholder Mixpanel refuses")
    return text


def _token(value: Any, fallback: str | None, field: str, rules: Rules) -> str:
    token = value if value is not None else fallback
    if token is None or token == "":
        raise _Refused(field, "the project token is missing")
    if not isinstance(token, str):
        raise _Refused(field, f"the project token must be a string, got {_type(token)}")
    if rules.tokens and token not in rules.tokens:
        raise _Refused(field, f"unknown project token {token!r}")
    return token


def _time(value: Any, endpoint: str, now: float) -> float:
    if value is None:
        if endpoint == "import":
            raise _Refused("properties.time", "'time' is required on /import")
        return now
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refused(
            "properties.time",
            f"'time' must be a number of seconds (or milliseconds) since epoch, got {value!r}",
        )
    seconds = value / 1000.0 if value > 1e11 else float(value)
    if seconds > now + FUTURE_SLACK:
        raise _Refused("properties.time", f"'time' {value!r} is more than 1 hour in the future")
    if endpoint == "import" and seconds < EARLIEST:
        raise _Refused("properties.time", f"'time' {value!r} is before 1971")
    if endpoint != "import" and seconds < now - TRACK_WINDOW:
        raise _Refused(
            "properties.time",
            f"'time' {value!r} is more than 5 days old; send historical events to /import",
        )
    return seconds


def _nested(value: Any, field: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Refused(field, f"'{field}' is nested deeper than {MAX_DEPTH} levels")
    if len(value) > MAX_NESTED:
        raise _Refused(field, f"'{field}' has {len(value)} items; the limit is {MAX_NESTED}")
    items = value.values() if isinstance(value, dict) else value
    for item in items:
        if type(item) in (dict, list):
            _nested(item, field, depth + 1)


def _update(record: Any, endpoint: str, rules: Rules) -> Update:
    if isinstance(record, Malformed):
        raise _Refused("", record.message)
    if not isinstance(record, dict):
        raise _Refused("", f"each update must be a JSON object, got {_type(record)}")
    token = _token(record.get("$token", record.get("token")), None, "$token", rules)
    group_key = ""
    if endpoint == "groups":
        group_key = record.get("$group_key")  # type: ignore[assignment]
        if not isinstance(group_key, str) or not group_key:
            raise _Refused(
                "$group_key", f"'$group_key' must be a non-empty string, got {group_key!r}"
            )
        if "$group_id" not in record:
            raise _Refused("$group_id", "'$group_id' is missing")
        ident = _id(record["$group_id"], "$group_id")
    else:
        if "$distinct_id" not in record:
            raise _Refused("$distinct_id", "'$distinct_id' is missing")
        ident = _id(record["$distinct_id"], "$distinct_id")
    ops = [key for key in record if key in PROFILE_OPS]
    if len(ops) != 1:
        found = ", ".join(ops) or "none"
        raise _Refused(
            "", f"an update needs exactly one of {', '.join(PROFILE_OPS)}; found {found}"
        )
    op = ops[0]
    value = record[op]
    _check_op_value(op, value)
    return Update(token, ident, op, value, group_key)


def _check_op_value(op: str, value: Any) -> None:
    if op == "$delete":
        return
    if op == "$unset":
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise _Refused(op, f"'$unset' takes a list of property names, got {value!r}")
        return
    if not isinstance(value, dict):
        raise _Refused(op, f"'{op}' takes a JSON object of properties, got {_type(value)}")
    for name, item in value.items():
        if op == "$add" and (isinstance(item, bool) or not isinstance(item, (int, float))):
            raise _Refused(f"{op}.{name}", f"'$add' needs numbers, got {item!r} for {name!r}")
        if op == "$union" and not isinstance(item, list):
            raise _Refused(f"{op}.{name}", f"'$union' needs lists, got {item!r} for {name!r}")


def _insert_id_of(record: Any) -> str:
    if isinstance(record, dict) and isinstance(record.get("properties"), dict):
        value = record["properties"].get("$insert_id")
        return value if isinstance(value, str) else ""
    return ""


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__
