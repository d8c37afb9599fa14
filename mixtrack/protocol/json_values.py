"""JSON as Mixpanel's ingestion reads it: exact numbers, bounded depth, one record at a time.

Mixpanel takes JSON, and JSON has no ``NaN`` or ``Infinity``; its numbers are IEEE doubles.
So a record is refused on its own (the records beside it kept) when it holds

- ``NaN``, ``Infinity`` or ``-Infinity`` (Python's ``json.dumps`` writes them by default),
- a number beyond the range of a double (``1e400``, an integer of 310 digits and more),
- values nested deeper than :data:`MAX_JSON_DEPTH` (Mixpanel keeps 3 levels of properties).

What is accepted comes back equal in value: integers stay integers of any size up to the
double range (orjson would turn those beyond 64 bits into floats, so such documents take the
exact path), and text is decoded as :func:`text_of` says.

>>> loads(b'{"n": 123456789012345678901234567890}')
{'n': 123456789012345678901234567890}
>>> load_records(b'[{"ok": 1}, {"time": NaN}]')
[{'ok': 1}, Malformed(message='record 1: NaN is not a JSON number; send finite numbers only')]
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

import attrs

__all__ = [
    "MAX_JSON_DEPTH",
    "DecodeError",
    "Malformed",
    "NotAccepted",
    "dumps",
    "dumps_str",
    "load_records",
    "loads",
    "text_of",
]

#: Nesting a record may have before it is refused without being parsed (Mixpanel keeps 3).
MAX_JSON_DEPTH = 64
#: ``json.JSONDecodeError``; orjson's error is a subclass of it.
DecodeError = json.JSONDecodeError

try:  # pragma: no cover - which branch runs depends on the installed extras
    import orjson

    _fast_loads: Any = orjson.loads
    _fast_dumps: Any = orjson.dumps
except ImportError:  # pragma: no cover
    _fast_loads = _fast_dumps = None


class NotAccepted(ValueError):
    """The JSON is well-formed but holds a value Mixpanel does not take (NaN, 1e400, ...)."""


@attrs.frozen
class Malformed:
    """A record refused before validation: it stands in the record's place, so the records
    beside it are still checked and stored."""

    message: str


# ---------------------------------------------------------------------------------------------
# Text


#: An encoded UTF-16 surrogate pair: high half ED A0-AF xx, then low half ED B0-BF xx.
_CESU_PAIR = re.compile(rb"\xed([\xa0-\xaf])([\x80-\xbf])\xed([\xb0-\xbf])([\x80-\xbf])")
#: Half a pair, left alone.
_CESU_HALF = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
_REPLACEMENT = "\ufffd".encode()
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _join_pair(match: re.Match[bytes]) -> bytes:
    high = 0xD800 | ((match[1][0] & 0x0F) << 6) | (match[2][0] & 0x3F)
    low = 0xDC00 | ((match[3][0] & 0x0F) << 6) | (match[4][0] & 0x3F)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).encode()


def text_of(raw: bytes) -> str:
    r"""``raw`` decoded as Mixpanel decodes it: UTF-8, with surrogate pairs encoded one half at
    a time (mixpanel-browser's base64) joined, and anything else invalid as U+FFFD.

    >>> text_of(b"\xed\xa0\xbc\xed\xbc\xb3 caf\xc3\xa9")
    '🌳 café'
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    joined = _CESU_HALF.sub(_REPLACEMENT, _CESU_PAIR.sub(_join_pair, raw))
    return joined.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# Reading

#: 19 digits in a row: maybe an integer beyond 64 bits, which orjson reads as a float.
_LONG_DIGITS_BYTES = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_TEXT = re.compile(r"[0-9]{19}")
#: Strings (skipped whole) and the punctuation that gives a document its shape.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
#: Decimal digits of the largest double; an integer with more is out of range.
_DOUBLE_DIGITS = 309


def loads(data: bytes | str) -> Any:
    """One JSON document, exactly; :class:`DecodeError` when it is not JSON, and
    :class:`NotAccepted` when it holds a value Mixpanel refuses.

    >>> loads('{"a": 1e400}')
    Traceback (most recent call last):
    ...
    mixtrack.protocol.json_values.NotAccepted: 1e400 is beyond the range of a double
    """
    if _fast_loads is not None and not _has_long_digits(data):
        try:
            return _fast_loads(data)
        except DecodeError:
            pass  # the exact path says precisely what is wrong, or accepts what orjson cannot
    text = text_of(data) if isinstance(data, bytes) else data
    depth = _depth(text)
    if depth > MAX_JSON_DEPTH:
        raise NotAccepted(f"values are nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}")
    return _exact_loads(text)


def load_records(data: bytes | str) -> Any:
    """A request's JSON: one record or a list of them. A record holding a value Mixpanel
    refuses becomes a :class:`Malformed` in its place; only a document that is not JSON at
    all raises (:class:`DecodeError`)."""
    try:
        return loads(data)
    except NotAccepted as whole:
        text = (text_of(data) if isinstance(data, bytes) else data).strip()
        if text[:1] == "{":
            return [Malformed(f"record 0: {whole}")]
        if text[:1] != "[":
            raise DecodeError(f"not a record or a list of records: {whole}", text, 0) from None
    records: list[Any] = []
    for index, (piece, depth) in enumerate(_elements(text)):
        if depth > MAX_JSON_DEPTH:
            message = f"values are nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}"
            records.append(Malformed(f"record {index}: {message}"))
            continue
        try:
            records.append(_exact_loads(piece))
        except NotAccepted as refused:
            records.append(Malformed(f"record {index}: {refused}"))
    return records


def _has_long_digits(data: bytes | str) -> bool:
    if isinstance(data, bytes):
        return _LONG_DIGITS_BYTES.search(data) is not None
    return _LONG_DIGITS_TEXT.search(data) is not None


def _depth(text: str) -> int:
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match[0]
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _elements(text: str) -> list[tuple[str, int]]:
    """The top-level items of the JSON array ``text``, each with its nesting depth, found
    without parsing them (a string's brackets and commas are skipped with the string)."""
    depth = 0
    start = 1
    deepest = 0
    found: list[tuple[str, int]] = []
    for match in _TOKENS.finditer(text):
        token = match[0]
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth - 1)
        elif token in "]}":
            depth -= 1
            if depth == 0:
                piece = text[start : match.start()]
                if text[match.end() :].strip():
                    raise DecodeError("extra data after the list of records", text, match.end())
                if piece.strip() or found:
                    found.append((piece, deepest))
                return found
        elif depth == 1:
            found.append((text[start : match.start()], deepest))
            start = match.end()
            deepest = 0
    raise DecodeError("the list of records is not closed", text, len(text))


def _exact_loads(text: str) -> Any:
    value = json.loads(
        text, parse_int=_int, parse_float=_float, parse_constant=_constant
    )  # the stdlib accepts escaped lone surrogates; fix them after
    return _scrub(value)


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > _DOUBLE_DIGITS:
        raise NotAccepted(f"an integer of {len(digits)} digits is beyond the range of a double")
    value = int(digits)
    if abs(value) > sys.float_info.max:
        raise NotAccepted(f"{digits} is beyond the range of a double")
    return value


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NotAccepted(f"{text[:40]} is beyond the range of a double")
    return value


def _constant(name: str) -> Any:
    raise NotAccepted(f"{name} is not a JSON number; send finite numbers only")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Writing


def dumps(value: Any) -> bytes:
    """Compact JSON; integers beyond 64 bits are written exactly.

    >>> dumps({"n": 2**70})
    b'{"n":1180591620717411303424}'
    """
    if _fast_dumps is not None:
        try:
            return bytes(_fast_dumps(value))
        except TypeError:  # integers beyond 64 bits, which the stdlib can still write
            pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def dumps_str(value: Any) -> str:
    """Compact JSON text, as stored in the database."""
    return dumps(value).decode()
