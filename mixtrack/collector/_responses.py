"""Mixpanel's answers, byte for byte: clients parse them, so shape and spacing matter.

- Legacy shape (form ``data=`` requests): the body ``1`` or ``0`` with no newline, or with
  ``verbose=1`` ``{"status": 1, "error": null}`` / ``{"status": 0, "error": "..."}``.
- /import JSON shape: ``{"code": 200, "num_records_imported": n, "status": "OK"}``; a partial
  failure is a 400 with ``failed_records``; 401, 413 and 429 carry Mixpanel's messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
INVALID_CREDENTIALS = "Invalid credentials"
RATE_LIMITED = "Project exceeded rate limits. Please retry the request with exponential backoff."
PARTIAL_FAILURE = "some data points in the request failed validation"


@attrs.frozen
class FailedRecord:
    """One refused record, as /import reports it."""

    index: int
    insert_id: str
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "insert_id": self.insert_id,
            "field": self.field,
            "message": self.message,
        }


@attrs.frozen
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _encode(value: Any) -> bytes:
    # Mixpanel writes ", " and ": " separators; keep them so byte comparisons hold.
    return json.dumps(value).encode()


def legacy(ok: bool, *, verbose: bool, error: str | None = None, status: int = 200) -> Answer:
    """``1``/``0``, or the verbose ``{"status": ..., "error": ...}`` object."""
    if verbose:
        body = _encode({"status": 1 if ok else 0, "error": None if ok else error})
        return Answer(status, body)
    return Answer(status, b"1" if ok else b"0", "text/plain")


def imported(count: int) -> Answer:
    return Answer(200, _encode({"code": 200, "num_records_imported": count, "status": "OK"}))


def partial_failure(count: int, failed: Sequence[FailedRecord]) -> Answer:
    return Answer(
        400,
        _encode(
            {
                "code": 400,
                "error": PARTIAL_FAILURE,
                "status": "Bad Request",
                "num_records_imported": count,
                "failed_records": [record.as_json() for record in failed],
            }
        ),
    )


def error(status: int, message: str, *, retry_after: float | None = None) -> Answer:
    """An /import-style error: ``{"code": 413, "error": "...", "status": "..."}``."""
    body = _encode({"code": status, "error": message, "status": REASONS.get(status, "Error")})
    headers = () if retry_after is None else (("Retry-After", _seconds(retry_after)),)
    return Answer(status, body, headers=headers)


def for_request(
    status: int, message: str, *, form: bool, verbose: bool, retry_after: float | None = None
) -> Answer:
    """An error in the shape this request's client parses."""
    if not form:
        return error(status, message, retry_after=retry_after)
    answer = legacy(False, verbose=verbose, error=message, status=status)
    if retry_after is not None:
        answer = attrs.evolve(answer, headers=(("Retry-After", _seconds(retry_after)),))
    return answer


def control(value: Any, status: int = 200) -> Answer:
    """A query/control API answer (``/_mixtrack/...``)."""
    return Answer(status, _encode(value))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
