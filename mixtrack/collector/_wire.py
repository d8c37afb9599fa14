"""Turn one HTTP request into the records it carries: pure functions, no I/O.

Mixpanel's clients disagree on almost everything, and a collector has to accept all of it:

- mixpanel-python posts a form body ``data=<JSON>&verbose=1&ip=0``;
- the Node.js ``mixpanel`` package sends ``GET ?data=<base64>`` and, for batches, a form body
  ``data=<base64>`` whose base64 is *not* URL-encoded, so a form decoder turns ``+`` into a space;
- mixpanel-browser posts ``data=<encodeURIComponent(base64 or JSON)>`` to ``/track/`` (with a
  trailing slash), or hands the same string to ``navigator.sendBeacon`` as ``text/plain``;
- ``/import`` also takes ``application/json`` and ``application/x-ndjson`` bodies, often gzipped.

So the decoder trusts the bytes rather than the ``Content-Type`` header.

Text is decoded as Mixpanel decodes it. mixpanel-browser's base64 encoder turns each UTF-16
code unit into UTF-8 on its own, so a character outside the Basic Multilingual Plane (an
emoji, some CJK) arrives as two encoded surrogate halves ("CESU-8") rather than as one
four-byte sequence; those pairs become the character they stand for. A surrogate without its
other half (mixpanel-browser cuts strings at 255 UTF-16 units, which can split a pair) and any
other byte that is not UTF-8 become U+FFFD, the replacement character, so one bad string never
costs the rest of the request.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, unquote_to_bytes

import attrs

from mixtrack.collector import _json

ENDPOINTS = ("track", "engage", "groups", "import")
MAX_RECORDS = 2000
#: Uncompressed body limits, in bytes: Mixpanel's documented 2 MB, and 10 MB for /import.
MAX_BYTES = {"track": 2 * 1024 * 1024, "engage": 2 * 1024 * 1024, "groups": 2 * 1024 * 1024}
MAX_IMPORT_BYTES = 10 * 1024 * 1024


@attrs.frozen
class Malformed:
    """A line of an NDJSON body that is not JSON: refused on its own, the other lines kept."""

    message: str


@attrs.frozen
class WireRequest:
    """The parts of an HTTP request the decoder reads. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@attrs.frozen
class Payload:
    """What a request carries once decoded, before any validation."""

    endpoint: str
    records: list[Any]
    #: True when the records came in a ``data=`` field: the client expects the legacy
    #: ``1``/``0`` or ``{"status": 1, "error": null}`` answer rather than the /import JSON shape.
    form: bool
    verbose: bool
    strict: bool
    params: Mapping[str, str]
    size: int


class WireError(Exception):
    """The request cannot be decoded; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def endpoint_of(path: str) -> str | None:
    """``"/track/"`` -> ``"track"``; ``None`` for a path that is not an ingest endpoint."""
    name = path.strip("/")
    return name if name in ENDPOINTS else None


def byte_limit(endpoint: str) -> int:
    return MAX_BYTES.get(endpoint, MAX_IMPORT_BYTES)


def decode(request: WireRequest, endpoint: str) -> Payload:
    """Decode ``request`` sent to ``endpoint``; raise :class:`WireError` naming what is wrong."""
    limit = byte_limit(endpoint)
    params = dict(parse_qsl(request.query, keep_blank_values=True))
    body = _inflate(request.body, request.headers.get("content-encoding", ""), limit)
    size = len(body)
    if size > limit:
        raise _too_large(limit)
    data: str | None = params.pop("data", None)
    form = True
    records: Any
    stripped = body.lstrip()
    if stripped[:1] in (b"[", b"{"):
        form = False
        records = _parse_json_body(stripped, request.headers.get("content-type", ""))
    else:
        if stripped:
            fields = _parse_form(body)
            data = fields.pop("data", data)
            for key, value in fields.items():
                params.setdefault(key, value)
        if data is None:
            raise WireError("no data: send events in a data= field or as a JSON body")
        size = max(size, len(data))
        if size > limit:
            raise _too_large(limit)
        records = decode_data_field(data)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise WireError(f"data must be a JSON object or array, got {type(records).__name__}")
    if len(records) > MAX_RECORDS:
        raise WireError(
            f"request has {len(records)} records; the limit is {MAX_RECORDS} per request",
            status=413,
        )
    return Payload(
        endpoint=endpoint,
        records=records,
        form=form,
        verbose=params.get("verbose") == "1",
        strict=params.get("strict") == "1",
        params=params,
        size=size,
    )


def decode_data_field(data: str) -> Any:
    """The value of a ``data=`` field: JSON, or base64 of JSON (``+`` possibly turned to space)."""
    text = data.strip()
    if text[:1] in ("[", "{"):
        try:
            return loads(text)
        except _json.DecodeError as exc:
            raise WireError(f"data is not valid JSON: {exc} in {_excerpt(text)}") from None
    compact = text.replace(" ", "+").replace("\n", "").replace("\r", "")
    compact += "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(
            compact, altchars=b"-_" if "-" in compact or "_" in compact else None, validate=True
        )
    except (binascii.Error, ValueError):
        raise WireError(f"data is neither JSON nor base64: {_excerpt(text)}") from None
    try:
        return loads(raw)
    except _json.DecodeError as exc:
        raise WireError(f"data is base64 but not of JSON: {exc} in {_excerpt(raw)}") from None


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
    """``raw`` decoded as Mixpanel decodes it: UTF-8, with surrogate pairs encoded one half at
    a time (mixpanel-browser's base64) joined, and anything else invalid as U+FFFD.

    >>> text_of(b"\xed\xa0\xbc\xed\xbc\xb3 caf\xc3\xa9")
    '\U0001f333 café'
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    joined = _CESU_HALF.sub(_REPLACEMENT, _CESU_PAIR.sub(_join_pair, raw))
    return joined.decode("utf-8", "replace")


def loads(data: bytes | str) -> Any:
    """JSON as Mixpanel reads it: see :func:`text_of`; escaped lone surrogates (``"\\ud83c"``,
    which ``JSON.stringify`` writes for half a pair) become U+FFFD too."""
    try:
        return _json.loads(data)
    except _json.DecodeError:
        text = text_of(data) if isinstance(data, bytes) else data
    try:
        value = json.loads(text)  # the stdlib accepts escaped lone surrogates; fix them after
    except json.JSONDecodeError:
        return _json.loads(text)  # raises the usual error, with its position
    return _scrub(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value


def _parse_form(body: bytes) -> dict[str, str]:
    # parse_qsl would do, but it decodes strictly as UTF-8 and hides which field was bad.
    fields: dict[str, str] = {}
    for part in text_of(body).split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        fields[unquote_plus(key)] = text_of(unquote_to_bytes(value.replace("+", " ")))
    return fields


def _parse_json_body(body: bytes, content_type: str) -> Any:
    if "ndjson" in content_type or (body[:1] == b"{" and b"\n{" in body):
        lines = [line for line in body.split(b"\n") if line.strip()]
        records: list[Any] = []
        for number, line in enumerate(lines, 1):
            try:
                records.append(loads(line))
            except _json.DecodeError as exc:
                # Each line stands alone: one broken line costs only itself.
                records.append(Malformed(f"line {number} is not valid JSON: {exc}"))
        if records and all(isinstance(r, Malformed) for r in records):
            raise WireError(f"body is not valid NDJSON: {records[0].message}")
        return records
    try:
        return loads(body)
    except _json.DecodeError as exc:
        raise WireError(f"body is not valid JSON: {exc} in {_excerpt(body)}") from None


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    if "gzip" not in encoding.lower() and body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        # Read one byte past the limit so a zip bomb is refused without being inflated.
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise WireError(f"body is marked gzip but does not inflate: {exc}") from None
    if len(out) > limit:
        raise _too_large(limit)
    return out


def _too_large(limit: int) -> WireError:
    return WireError(f"request exceeds max limit of {limit} bytes", status=413)


def _excerpt(value: str | bytes, width: int = 60) -> str:
    text = value if isinstance(value, str) else value.decode("utf-8", "replace")
    return repr(text[:width] + ("..." if len(text) > width else ""))
