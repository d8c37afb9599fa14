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

The collector, ``mixtrack.testing``'s in-memory transport and the test and benchmark sinks
all read requests with :func:`decode`:

>>> body = b"data=W3siZXZlbnQiOiJhIn1d"
>>> request = WireRequest.from_url("POST", "http://127.0.0.1:8765/track", {}, body)
>>> decode(request, "track").records
[{'event': 'a'}]
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, unquote_to_bytes, urlsplit

import attrs

from mixtrack.protocol.json_values import (
    DecodeError,
    Malformed,
    NotAccepted,
    load_records,
    loads,
    text_of,
)

ENDPOINTS = ("track", "engage", "groups", "import")
MAX_RECORDS = 2000
#: Uncompressed body limits, in bytes: Mixpanel's documented 2 MB, and 10 MB for /import.
MAX_BYTES = {"track": 2 * 1024 * 1024, "engage": 2 * 1024 * 1024, "groups": 2 * 1024 * 1024}
MAX_IMPORT_BYTES = 10 * 1024 * 1024
#: A form body may spell each byte of its JSON as ``%XX``: three bytes on the wire per byte.
FORM_EXPANSION = 3


@attrs.frozen
class WireRequest:
    """The parts of an HTTP request the decoder reads. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def from_url(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> WireRequest:
        """A request as a client or a test server sees it: a full URL and headers in any case."""
        parts = urlsplit(url)
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(method.upper(), parts.path or "/", parts.query, lowered, body)

    @property
    def endpoint(self) -> str | None:
        """The ingest endpoint named by the path's last segment (``/prefix/import`` too)."""
        return endpoint_of(self.path.rstrip("/").rsplit("/", 1)[-1])


@attrs.frozen
class Payload:
    """What a request carries once decoded, before any validation."""

    endpoint: str
    #: The records in order; one Mixpanel refuses on its content alone is a :class:`Malformed`.
    records: list[Any]
    #: True when the records came in a ``data=`` field: the client expects the legacy
    #: ``1``/``0`` or ``{"status": 1, "error": null}`` answer rather than the /import JSON shape.
    form: bool
    verbose: bool
    strict: bool
    params: Mapping[str, str]
    size: int


class WireError(Exception):
    """The request cannot be decoded; ``status`` is the HTTP status to answer with and
    ``form`` whether the client expects the legacy answer shape."""

    def __init__(self, message: str, *, status: int = 400, form: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.form = form


def endpoint_of(path: str) -> str | None:
    """``"/track/"`` -> ``"track"``; ``None`` for a path that is not an ingest endpoint."""
    name = path.strip("/")
    return name if name in ENDPOINTS else None


def byte_limit(endpoint: str) -> int:
    """Mixpanel's limit of uncompressed JSON per request to ``endpoint``."""
    return MAX_BYTES.get(endpoint, MAX_IMPORT_BYTES)


def read_limit(endpoint: str) -> int:
    """Bytes of body worth reading for ``endpoint``: anything longer cannot decode to less
    than :func:`byte_limit`, so a server refuses it while reading."""
    return FORM_EXPANSION * byte_limit(endpoint) + 64 * 1024


def wants_form_answer(request: WireRequest) -> bool:
    """Whether the client expects the legacy ``1``/``0`` answer: its body is a form, not JSON
    and not gzip (only JSON bodies are compressed)."""
    body = request.body
    if body[:2] == b"\x1f\x8b" or "gzip" in request.headers.get("content-encoding", "").lower():
        return False
    return body.lstrip()[:1] not in (b"[", b"{")


def wants_verbose_answer(request: WireRequest) -> bool:
    return "verbose=1" in request.query or b"verbose=1" in request.body[:4096]


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
        raise WireError(
            f"data must be a JSON object or array, got {type(records).__name__}", form=form
        )
    if len(records) > MAX_RECORDS:
        raise WireError(
            f"request has {len(records)} records; the limit is {MAX_RECORDS} per request",
            status=413,
            form=form,
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
            return load_records(text)
        except DecodeError as exc:
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
        return load_records(raw)
    except DecodeError as exc:
        raise WireError(f"data is base64 but not of JSON: {exc} in {_excerpt(raw)}") from None


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
        not_json = 0
        for number, line in enumerate(lines, 1):
            # Each line stands alone: one broken line costs only itself.
            try:
                records.append(loads(line))
            except DecodeError as exc:
                not_json += 1
                records.append(Malformed(f"line {number} is not valid JSON: {exc}"))
            except NotAccepted as exc:
                records.append(Malformed(f"line {number}: {exc}"))
        if records and not_json == len(records):
            raise WireError(f"body is not valid NDJSON: {records[0].message}", form=False)
        return records
    try:
        return load_records(body)
    except DecodeError as exc:
        raise WireError(f"body is not valid JSON: {exc} in {_excerpt(body)}", form=False) from None


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    if "gzip" not in encoding.lower() and body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        # Read one byte past the limit so a zip bomb is refused without being inflated.
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise WireError(f"body is marked gzip but does not inflate: {exc}", form=False) from None
    if len(out) > limit:
        raise _too_large(limit, form=False)
    return out


def _too_large(limit: int, *, form: bool | None = None) -> WireError:
    return WireError(f"request exceeds max limit of {limit} bytes", status=413, form=form)


def _excerpt(value: str | bytes, width: int = 60) -> str:
    text = value if isinstance(value, str) else value.decode("utf-8", "replace")
    return repr(text[:width] + ("..." if len(text) > width else ""))
