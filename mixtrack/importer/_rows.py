"""Reading history files (pure): NDJSON or CSV rows turned into Mixpanel event messages.

A row becomes ``{"event", "properties": {"token", "distinct_id", "time", "$insert_id", ...}}``
or a reason why it cannot. Rows without a ``$insert_id`` get one derived from their content
alone, so importing the same file twice, resuming, or importing a fixed copy of it stores
each event once (identical rows are one event).

CSV files may be separated by ``,``, ``;``, tabs or ``|``: the delimiter is detected from the
start of the file unless one is given. Cells are typed (see :func:`infer_cell`), or as
``column_types`` says.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from mixtrack._delivery.messages import (
    MIN_IMPORT_MS,
    check_event_name,
    check_insert_id,
    coerce_distinct_id,
    encode_properties,
    event_time_ms,
)
from mixtrack.errors import ConfigError, ValidationError
from mixtrack.importer._text import CsvRecord, csv_records, sample_and_lines, text_lines

__all__ = [
    "COLUMN_TYPES",
    "ColumnMap",
    "Row",
    "count_rows",
    "csv_dialect",
    "csv_header",
    "infer_cell",
    "parse_column_types",
    "read_rows",
]

Format = Literal["ndjson", "csv"]
#: The types ``--column-types`` accepts.
COLUMN_TYPES = ("str", "int", "float", "bool", "json")
DELIMITERS = ",;\t|"
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_BOOLS = {"true": True, "false": False}


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
    #: CSV only: the field delimiter; ``None`` detects it.
    delimiter: str | None = None
    #: CSV only: ``{column: type}`` with a type of :data:`COLUMN_TYPES`; other property
    #: columns are inferred by :func:`infer_cell` unless ``infer_types`` is False.
    column_types: Mapping[str, str] = attrs.field(factory=dict)
    infer_types: bool = True
    #: the file's text encoding, e.g. ``"cp1252"`` for a CSV saved by Excel on Windows
    encoding: str = "utf-8"


@attrs.frozen
class Row:
    """One input row: its number (1-based), and a message or the reason it has none; the
    line of the file it starts on and its text there (to write a refused row out again)."""

    number: int
    message: dict[str, Any] | None
    reason: str | None = None
    line: int = 0
    raw: str = ""


def parse_column_types(text: str) -> dict[str, str]:
    """``"seats=int,plan=str"`` -> ``{"seats": "int", "plan": "str"}``; a clear error otherwise.

    >>> parse_column_types("seats=int, paid=bool")
    {'seats': 'int', 'paid': 'bool'}
    """
    types: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, kind = part.rpartition("=")
        if not name or kind not in COLUMN_TYPES:
            raise ConfigError(
                f"column type {part!r} must be NAME=TYPE with TYPE one of "
                f"{', '.join(COLUMN_TYPES)} (e.g. --column-types seats=int,plan=str)"
            )
        types[name.strip()] = kind
    return types


def infer_cell(text: str) -> Any:
    """A CSV cell as the value it spells: integers and decimals without leading zeros
    (``"42"``, ``"-3"``, ``"9.5"``) become numbers, ``true``/``false`` (any case) become
    booleans; anything else, ``"007"`` and ``"1e3"`` included, stays text.

    >>> [infer_cell(v) for v in ("42", "9.5", "TRUE", "007", "1,5", "pro")]
    [42, 9.5, True, '007', '1,5', 'pro']
    """
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return _BOOLS.get(text.lower(), text)


def _typed(name: str, text: str, kind: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError
        if kind == "json":
            return json.loads(text)
    except ValueError:
        raise ValidationError(f"column {name!r} is typed {kind} but holds {text!r}") from None
    return text


def csv_dialect(sample: str, delimiter: str | None = None) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect of a file starting with ``sample``: ``delimiter``, or the one of
    ``,``, ``;``, tab and ``|`` that the sample is consistently split by (``,`` when none).

    >>> csv_dialect("a;b;c\n1;2;3\n").delimiter
    ';'
    """
    if delimiter is not None:
        if len(delimiter) != 1:
            raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")

        class Given(csv.excel):
            pass

        Given.delimiter = delimiter
        return Given
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        return csv.excel


def _csv_file(path: Path, columns: ColumnMap) -> tuple[Iterator[CsvRecord], str]:
    sample, lines = sample_and_lines(text_lines(path, columns.encoding))
    dialect = csv_dialect(sample, columns.delimiter)
    return csv_records(lines, dialect), str(dialect.delimiter)


def count_rows(path: Path, fmt: Format, columns: ColumnMap | None = None) -> int:
    """How many rows a file has (for the progress bar); the first undecodable byte raises
    :class:`~mixtrack.errors.ConfigError`, before anything is sent."""
    columns = columns or ColumnMap()
    if fmt == "csv":
        return max(sum(1 for _ in _csv_file(path, columns)[0]) - 1, 0)
    return sum(1 for _, text in text_lines(path, columns.encoding) if text.strip())


def _check_header(fields: Sequence[str] | None, columns: ColumnMap, delimiter: str) -> None:
    found = [f for f in fields or [] if f]
    required = [columns.event, columns.distinct_id, columns.time]
    missing = [name for name in required if name not in found]
    if not missing:
        return
    flags = {
        columns.event: "--event-column",
        columns.distinct_id: "--distinct-id-column",
        columns.time: "--time-column",
    }
    shown = ", ".join(repr(f) for f in found[:20]) or "nothing"
    hint = ", ".join(f"{flags[name]} for {name!r}" for name in missing)
    raise ConfigError(
        f"the CSV header has no column {' or '.join(repr(m) for m in missing)}; the header "
        f"found (split on {delimiter!r}) is: {shown}. Name the columns with {hint}, or pass "
        "--delimiter if the file is split by another character"
    )


def read_rows(path: Path, fmt: Format, columns: ColumnMap, token: str) -> Iterator[Row]:
    """Every row of the file, in order, as a message or a reason.

    Raises :class:`~mixtrack.errors.ConfigError` before the first row when a CSV header lacks
    a required column (naming the header it found).
    """
    if fmt == "csv":
        yield from _csv_rows(path, columns, token)
        return
    number = 0
    for line, text in text_lines(path, columns.encoding):
        if not text.strip():
            continue
        number += 1
        raw = text.rstrip("\r\n")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Row(number, None, f"not valid JSON: {exc.msg}", line, raw)
            continue
        if not isinstance(doc, dict):
            reason = f"expected a JSON object, got {type(doc).__name__}"
            yield Row(number, None, reason, line, raw)
            continue
        if isinstance(doc.get("properties"), dict) and "event" in doc:
            flat = {**doc["properties"], columns.event: doc["event"]}
            row = _row(number, flat, attrs.evolve(columns, properties=None), token)
        else:
            row = _row(number, doc, columns, token)
        yield attrs.evolve(row, line=line, raw=raw)


def csv_header(path: Path, columns: ColumnMap) -> str:
    """The header line of a CSV file as it is written there (for a file of refused rows)."""
    for record in _csv_file(path, columns)[0]:
        return record.raw
    return ""


def _csv_rows(path: Path, columns: ColumnMap, token: str) -> Iterator[Row]:
    records, delimiter = _csv_file(path, columns)
    header = next(records, None)
    fields = header.cells if header is not None else None
    _check_header(fields, columns, delimiter)
    assert fields is not None
    unknown = sorted(set(columns.column_types) - set(fields))
    if unknown:
        raise ConfigError(
            f"--column-types names {', '.join(map(repr, unknown))}, not in the CSV "
            f"header: {', '.join(repr(f) for f in fields)}"
        )
    for number, record in enumerate(records, start=1):
        raw = record.raw.rstrip("\r\n")
        if record.cells is None or record.runs_over_rows(len(fields), delimiter):
            reason = record.error or (
                f"a quoted cell runs from line {record.line} to line {record.last_line} and "
                "takes in the rows there: is a closing quote missing?"
            )
            yield Row(number, None, reason, record.line, raw)
            continue
        padded: list[str | None] = [*record.cells, *[None] * (len(fields) - len(record.cells))]
        cells = {name: value for name, value in zip(fields, padded, strict=False) if name}
        try:
            typed = _type_cells(cells, columns)
        except ValidationError as exc:
            yield Row(number, None, str(exc), record.line, raw)
            continue
        yield attrs.evolve(_row(number, typed, columns, token), line=record.line, raw=raw)


def _type_cells(record: Mapping[str, str | None], columns: ColumnMap) -> dict[str, Any]:
    # The event, id and time columns keep their text: they have parsers of their own.
    fixed = {columns.event, columns.distinct_id, columns.time, columns.insert_id}
    if columns.properties is not None:
        fixed.add(columns.properties)
    typed: dict[str, Any] = {}
    for name, value in record.items():
        if value is None or value == "":
            typed[name] = None
        elif name in columns.column_types:
            typed[name] = _typed(name, value, columns.column_types[name])
        elif columns.infer_types and name not in fixed:
            typed[name] = infer_cell(value)
        else:
            typed[name] = value
    return typed


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
        raw_id = record.get(columns.distinct_id)
        if raw_id is None:
            raise ValidationError(f"no distinct_id in column {columns.distinct_id!r}")
        distinct_id = coerce_distinct_id(raw_id)
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
                    [event, distinct_id, when, properties], sort_keys=True, default=str
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
