"""Reading history files (pure): NDJSON or CSV rows turned into Mixpanel event messages.

A row becomes ``{"event", "properties": {"token", "distinct_id", "time", "$insert_id", ...}}``
or a reason why it cannot. Rows without a ``$insert_id`` get one derived from their content
and position, so importing the same file twice (or resuming) never duplicates an event.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from mixtrack._message import (
    MIN_IMPORT_MS,
    check_event_name,
    check_insert_id,
    coerce_distinct_id,
    encode_properties,
    event_time_ms,
)
from mixtrack.errors import ValidationError

__all__ = ["ColumnMap", "Row", "count_rows", "read_rows"]

Format = Literal["ndjson", "csv"]


@attrs.frozen
class ColumnMap:
    """Where each field of an event is in a flat row (CSV, or NDJSON that is not already in
    Mixpanel's ``{"event", "properties"}`` shape). Every other column becomes a property,
    unless ``properties`` names one column holding a JSON object of them.

    ``time_format``: ``"auto"`` (epoch seconds or milliseconds, or ISO 8601), or a
    ``strptime`` format such as ``"%d/%m/%Y %H:%M"`` (read as UTC).
    """

    event: str = "event"
    distinct_id: str = "distinct_id"
    time: str = "time"
    insert_id: str = "$insert_id"
    properties: str | None = None
    time_format: str = "auto"


@attrs.frozen
class Row:
    """One input row: its number (1-based), and a message or the reason it has none."""

    number: int
    message: dict[str, Any] | None
    reason: str | None = None


def _open_text(path: Path) -> io.TextIOWrapper:
    return open(path, encoding="utf-8-sig", newline="")


def count_rows(path: Path, fmt: Format) -> int:
    """How many rows a file has (for the progress bar)."""
    with _open_text(path) as file:
        if fmt == "csv":
            return max(0, sum(1 for _ in csv.reader(file)) - 1)
        return sum(1 for line in file if line.strip())


def read_rows(path: Path, fmt: Format, columns: ColumnMap, token: str) -> Iterator[Row]:
    """Every row of the file, in order, as a message or a reason."""
    with _open_text(path) as file:
        if fmt == "csv":
            for number, record in enumerate(csv.DictReader(file), start=1):
                yield _row(number, {k: _cell(v) for k, v in record.items() if k}, columns, token)
            return
        number = 0
        for line in file:
            if not line.strip():
                continue
            number += 1
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(number, None, f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(doc, dict):
                yield Row(number, None, f"expected a JSON object, got {type(doc).__name__}")
                continue
            if isinstance(doc.get("properties"), dict) and "event" in doc:
                flat = {**doc["properties"], columns.event: doc["event"]}
                yield _row(number, flat, attrs.evolve(columns, properties=None), token)
            else:
                yield _row(number, doc, columns, token)


def _cell(value: str | None) -> Any:
    if value is None or value == "":
        return None
    return value


def _parse_time(value: Any, time_format: str) -> int:
    if time_format != "auto":
        if not isinstance(value, str):
            raise ValidationError(f"time {value!r} does not match the format {time_format!r}")
        try:
            parsed = dt.datetime.strptime(value, time_format)
        except ValueError:
            raise ValidationError(
                f"time {value!r} does not match the format {time_format!r}"
            ) from None
        return event_time_ms(parsed)
    if isinstance(value, str):
        text = value.strip()
        try:
            return event_time_ms(float(text))
        except ValueError:
            pass
        try:
            return event_time_ms(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise ValidationError(
                f"time {value!r} is neither epoch seconds/milliseconds nor ISO 8601; "
                "pass --time-format"
            ) from None
    return event_time_ms(value)


def _row(number: int, record: Mapping[str, Any], columns: ColumnMap, token: str) -> Row:
    try:
        event = check_event_name(record.get(columns.event))
        distinct_id = coerce_distinct_id(record.get(columns.distinct_id))
        raw_time = record.get(columns.time)
        if raw_time is None:
            raise ValidationError(f"no time in column {columns.time!r}")
        when = _parse_time(raw_time, columns.time_format)
        if when < MIN_IMPORT_MS:
            raise ValidationError(f"time {raw_time!r} is before 1971; /import refuses it")
        if columns.properties is not None:
            extra = record.get(columns.properties) or {}
            if isinstance(extra, str):
                extra = json.loads(extra)
            if not isinstance(extra, dict):
                raise ValidationError(f"column {columns.properties!r} must hold a JSON object")
        else:
            skip = {columns.event, columns.distinct_id, columns.time, columns.insert_id}
            extra = {k: v for k, v in record.items() if k not in skip and v is not None}
        properties = encode_properties(extra)
        insert_id = record.get(columns.insert_id)
        if insert_id is None:
            digest = hashlib.sha256(
                json.dumps(
                    [number, event, distinct_id, when, properties], sort_keys=True, default=str
                ).encode()
            ).hexdigest()
            insert_id = digest[:32]
        else:
            insert_id = check_insert_id(str(insert_id))
    except (ValidationError, ValueError) as exc:
        return Row(number, None, str(exc))
    properties.update(
        {"token": token, "distinct_id": distinct_id, "time": when, "$insert_id": insert_id}
    )
    return Row(number, {"event": event, "properties": properties})
