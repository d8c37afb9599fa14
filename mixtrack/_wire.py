"""Mixpanel's wire format (pure): serialize messages, encode a request, read the answer.

No I/O here: the worker calls :func:`serialize` once per batch (the bytes are kept for
retries), :func:`encode_request` for each attempt, and :func:`read_answer` on each response.
"""

from __future__ import annotations

import base64
import email.utils
import json
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlencode

import attrs

from mixtrack._config import Config
from mixtrack.transport import Request, Response

__all__ = [
    "Answer",
    "Route",
    "encode_request",
    "json_array",
    "read_answer",
    "serialize",
    "serialize_array",
    "split_payloads",
]

Route = Literal["import", "track", "engage", "groups"]

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _stdlib_dumps(message: Any) -> bytes:
    return _encoder.encode(message).encode("utf-8")


def _pick_dumps() -> Callable[[Any], bytes]:
    try:
        import orjson  # the optional `mixtrack[fast]` extra
    except ImportError:
        return _stdlib_dumps
    fast: Callable[[Any], bytes] = orjson.dumps

    def dumps(message: Any) -> bytes:
        try:
            # orjson returns its bytes in a buffer of at least 4 KiB whatever the length; a
            # batch keeps its payloads until answered (for retries), so copy them to their
            # exact size: a few hundred bytes each instead of 4 KiB.
            return memoryview(fast(message)).tobytes()
        except TypeError:  # ints beyond 64 bits: the stdlib handles them
            return _stdlib_dumps(message)

    return dumps


dumps = _pick_dumps()
_array_dumps: Callable[[Any], bytes] | None
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - without the `fast` extra
    _array_dumps = None
else:
    _array_dumps = _orjson.dumps


def serialize(messages: Iterable[Mapping[str, Any]]) -> list[bytes]:
    """One JSON document per message: for cutting a batch that is too big into requests."""
    return [dumps(m) for m in messages]


def serialize_array(messages: Sequence[Mapping[str, Any]]) -> bytes:
    """A batch as one JSON array, in one call: far less work in the delivery thread (so less
    time holding the GIL that callers of ``track()`` need) than a call per message."""
    if _array_dumps is not None:
        try:
            return _array_dumps(messages)
        except TypeError:  # ints beyond 64 bits: the stdlib handles them
            pass
    return _stdlib_dumps(list(messages))


def json_array(payloads: Sequence[bytes]) -> bytes:
    """Joins documents made by :func:`serialize` into one JSON array."""
    return b"[" + b",".join(payloads) + b"]"


def split_payloads(payloads: Sequence[bytes], max_bytes: int) -> list[list[bytes]]:
    """Cuts payloads into runs whose JSON array stays within ``max_bytes``."""
    runs: list[list[bytes]] = []
    run: list[bytes] = []
    size = 2
    for payload in payloads:
        if run and size + len(payload) + 1 > max_bytes:
            runs.append(run)
            run, size = [], 2
        run.append(payload)
        size += len(payload) + 1
    if run:
        runs.append(run)
    return runs


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def encode_request(config: Config, route: Route, body: bytes) -> Request:
    """The HTTP request Mixpanel expects for one batch (``body``: a JSON array) on one
    endpoint."""
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
    return Request("POST", url, headers, body, config.request_timeout)


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
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
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
    if status in (408, 429) or status >= 500:
        return Answer(
            "retry",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            detail=f"HTTP {status}: {text}",
        )
    if status == 413:
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
