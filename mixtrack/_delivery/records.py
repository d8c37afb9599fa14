"""Mixpanel's wire format (pure): serialize messages, encode a request, read the answer.

No I/O here. Each message is serialized once, by :func:`dumps` in ``track()``; a batch's body
is :func:`json_array` of those records; :func:`encode_request` makes the HTTP request of one
attempt and :func:`read_answer` classifies the collector's response.
"""

from __future__ import annotations

import base64
import email.utils
import json
import math
import time
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlencode

import attrs
import orjson

from mixtrack._config import Config
from mixtrack.protocol.limits import SPLIT_STATUS, is_retryable
from mixtrack.protocol.routes import Route
from mixtrack.transport import Request, Response

__all__ = [
    "Answer",
    "Records",
    "Route",
    "dumps",
    "encode_request",
    "json_array",
    "loads",
    "read_answer",
    "split_records",
]

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_orjson_dumps = orjson.dumps


def dumps(message: Any) -> bytes:
    """One message as compact JSON bytes: the record the queue, the body and the spool use.

    orjson hands its bytes back in a buffer of at least 4 KiB whatever the length: never keep
    one; :class:`Records` copies it into a shared buffer."""
    try:
        return _orjson_dumps(message)
    except TypeError:  # ints beyond 64 bits: the stdlib carries them
        return _encoder.encode(message).encode("utf-8")


class Records:
    """Serialized records, joined with commas in one buffer, as a batch's body needs them.

    A queued message costs its JSON and four bytes, instead of a bytes object each; a
    request's body is one copy of a slice. Append-only while it fills, then read-only.

    >>> records = Records.of([b'{"a":1}', b'{"b":2}', b'{"c":3}'])
    >>> len(records), records[1], records.body(1, 3)
    (3, b'{"b":2}', b'[{"b":2},{"c":3}]')
    """

    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("I")

    @classmethod
    def of(cls, records: Iterable[bytes]) -> Records:
        joined = cls()
        for record in records:
            joined.append(record)
        return joined

    def append(self, record: bytes) -> None:
        data = self._data
        if self._ends:
            data += b","
        data += record
        self._ends.append(len(data))

    @property
    def nbytes(self) -> int:
        """The length of the body: the records, their commas and the brackets."""
        return len(self._data) + 2

    def __len__(self) -> int:
        return len(self._ends)

    def _begin(self, index: int) -> int:
        return 0 if index == 0 else self._ends[index - 1] + 1

    def __getitem__(self, index: int) -> bytes:
        return bytes(self._data[self._begin(index) : self._ends[index]])

    def slice(self, start: int, stop: int) -> list[bytes]:
        return [self[i] for i in range(start, stop)]

    def size(self, start: int, stop: int) -> int:
        """Bytes of records ``start:stop`` (without the commas between them)."""
        if start >= stop:
            return 0
        return self._ends[stop - 1] - self._begin(start) - (stop - start - 1)

    def body(self, start: int, stop: int) -> bytes:
        """Records ``start:stop`` as one JSON array: a request's body."""
        view = memoryview(self._data)[self._begin(start) : self._ends[stop - 1]] if stop else b""
        return b"".join((b"[", view, b"]"))


def loads(record: bytes) -> Any:
    """A record back as Python values (for ``on_drop``, debug logs and test transports)."""
    try:
        return orjson.loads(record)
    except orjson.JSONDecodeError:  # the stdlib's big ints
        return json.loads(record)


def json_array(records: Sequence[bytes]) -> bytes:
    """A batch's body: ready-made records joined into one JSON array."""
    return b"[" + b",".join(records) + b"]"


def split_records(records: list[bytes], max_bytes: int) -> list[list[bytes]]:
    """Cuts records into runs whose JSON array stays within ``max_bytes``."""
    runs: list[list[bytes]] = []
    run: list[bytes] = []
    size = 2
    for record in records:
        if run and size + len(record) + 1 > max_bytes:
            runs.append(run)
            run, size = [], 2
        run.append(record)
        size += len(record) + 1
    if run:
        runs.append(run)
    return runs


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def encode_request(
    config: Config, route: Route, body: bytes, *, timeout: float | None = None
) -> Request:
    """The HTTP request Mixpanel expects for one batch (``body``: a JSON array) on one
    endpoint; ``timeout`` (default ``config.request_timeout``) bounds the attempt."""
    headers = {"Accept": "application/json", "User-Agent": "mixtrack-python"}
    if route == "import":
        query: dict[str, str] = {"strict": "1"}
        if config.service_account is not None:
            headers["Authorization"] = _basic(*config.service_account)
            if config.project_id:
                query["project_id"] = config.project_id
        else:
            headers["Authorization"] = _basic(config.api_secret or config.token)
        headers["Content-Type"] = "application/json"
        if config.gzip:
            # wbits=31: a gzip stream; level 1 trades a little size for a lot of CPU
            compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
            body = compressor.compress(body) + compressor.flush()
            headers["Content-Encoding"] = "gzip"
        url = f"{config.api_host}/import?{urlencode(query)}"
    else:
        # Form endpoints: base64 needs only three characters escaped, and is what every
        # official library sends; verbose=1 makes errors readable, ip=0 stops Mixpanel from
        # geolocating this server.
        encoded = base64.b64encode(body)
        encoded = encoded.replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")
        body = b"data=" + encoded + b"&verbose=1&ip=0"
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = f"{config.api_host}/{route}"
    return Request(
        "POST", url, headers, body, config.request_timeout if timeout is None else timeout
    )


Verdict = Literal["accepted", "partial", "rejected", "retry", "split"]


@attrs.frozen
class Answer:
    """What the collector said about one batch of ``size`` records."""

    verdict: Verdict
    #: index -> reason for refused records (``partial``), or every index (``rejected``)
    failed: Mapping[int, str] = attrs.field(factory=dict)
    retry_after: float | None = None
    detail: str = ""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None
    when absent or not a finite number (``inf``, ``nan``: refused, the backoff applies).

    >>> parse_retry_after("2"), parse_retry_after("inf"), parse_retry_after("-3")
    (2.0, None, 0.0)
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _all(size: int, reason: str) -> dict[int, str]:
    return dict.fromkeys(range(size), reason)


def read_answer(route: Route, response: Response, size: int) -> Answer:
    """Classifies Mixpanel's answer. Retry: 408, 429, 5xx. Split: 413. Others refuse."""
    status = response.status
    text = response.text()[:500]
    if is_retryable(status):
        return Answer(
            "retry",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            detail=f"HTTP {status}: {text}",
        )
    if status == SPLIT_STATUS:
        if size > 1:
            return Answer("split", detail=f"HTTP 413: {text}")
        return Answer("rejected", _all(size, f"HTTP 413: {text}"), detail=f"HTTP 413: {text}")
    doc = _json(response.body)
    if status == 200:
        if route == "import":
            return Answer("accepted")
        if response.body.strip() == b"1" or (isinstance(doc, dict) and doc.get("status") == 1):
            return Answer("accepted")
        error = doc.get("error") if isinstance(doc, dict) else None
        reason = str(error or f"collector answered {text!r}")
        return Answer("rejected", _all(size, reason), detail=reason)
    if status == 400 and route == "import" and isinstance(doc, dict) and doc.get("failed_records"):
        failed: dict[int, str] = {}
        for record in doc["failed_records"]:
            if isinstance(record, dict) and isinstance(record.get("index"), int):
                field = record.get("field") or ""
                message = record.get("message") or "refused"
                failed[record["index"]] = f"{field}: {message}" if field else str(message)
        if failed and len(failed) < size:
            return Answer("partial", failed, detail=f"HTTP 400: {len(failed)} of {size} refused")
        return Answer("rejected", failed or _all(size, text), detail=f"HTTP 400: {text}")
    reason = f"HTTP {status}: {(doc.get('error') if isinstance(doc, dict) else None) or text}"
    return Answer("rejected", _all(size, reason), detail=reason)
