"""JSON in and out, with orjson when the ``fast`` extra is installed and the stdlib otherwise."""

from __future__ import annotations

import json
from typing import Any

try:  # pragma: no cover - which branch runs depends on the installed extras
    import orjson

    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)

    def dumps(value: Any) -> bytes:
        try:
            return orjson.dumps(value)
        except TypeError:  # integers beyond 64 bits, which the stdlib can still write
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    DecodeError: type[Exception] = orjson.JSONDecodeError

except ImportError:  # pragma: no cover

    def loads(data: bytes | str) -> Any:
        return json.loads(data)

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    DecodeError = json.JSONDecodeError


def dumps_str(value: Any) -> str:
    """Compact JSON text, as stored in the database."""
    return dumps(value).decode()


__all__ = ["DecodeError", "dumps", "dumps_str", "loads"]
