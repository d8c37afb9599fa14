"""Turn one HTTP request into the records it carries: pure functions, no I/O.

Mixpanel's clients disagree on almost everything, and a collector has to accept all of it:

- mixpanel-python posts a form body ``data=<JSON>&verbose=1&ip=0``;
- the Node.js ``mixpanel`` package sends ``GET ?data=<base64>`` and, for batches, a form body
  ``data=<base64>`` whose base64 is *not* URL-encoded, so a form decoder turns ``+`` into a space;
- mixpanel-browser posts ``data=<encodeURIComponent(base64 or JSON)>`` to ``/track/`` (with a
  trailing slash), or hands the same string to ``navigator.sendBeacon`` as ``text/plain``;
- ``/import`` also takes ``application/json`` and ``application/x-ndjson`` bodies, often gzipped.

So the decoder trusts the bytes rather than the ``Content-Type`` header.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import attrs

from mixtrack.collector import _json

ENDPOINTS = ("track", "engage", "groups", "import")
MAX_RECORDS = 2000
#: Uncompressed body limits, in bytes: Mixpanel's documented 2 MB, and 10 MB for /import.
MAX_BYTES = {"track": 2 * 1024 * 1024, "engage": 2 * 1024 * 1024, "groups": 2 * 1024 * 1024}
MAX_IMPORT_BYTES = 10 * 1024 * 1024


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
            return _json.loads(text)
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
        return _json.loads(raw)
    except _json.DecodeError as exc:
        raise WireError(f"data is base64 but not of JSON: {exc} in {_excerpt(raw)}") from None


def _parse_form(body: bytes) -> dict[str, str]:
    # parse_qsl would do, but it decodes strictly as UTF-8 and hides which field was bad.
    fields: dict[str, str] = {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"form body is not UTF-8: {_excerpt(body)}") from None
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        fields[unquote_plus(key)] = unquote_plus(value)
    return fields


def _parse_json_body(body: bytes, content_type: str) -> Any:
    if "ndjson" in content_type or (body[:1] == b"{" and b"\n{" in body):
        lines = [line for line in body.split(b"\n") if line.strip()]
        try:
            return [_json.loads(line) for line in lines]
        except _json.DecodeError as exc:
            raise WireError(f"body is not valid NDJSON: {exc}") from None
    try:
        return _json.loads(body)
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
