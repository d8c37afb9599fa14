"""Plain values that cross the transport boundary."""

from __future__ import annotations

# socket.getaddrinfo() looks up the idna codec, importing it on first use. Done lazily from a
# delivery thread, that import can race a fork (gunicorn --preload forking its workers): the
# child inherits a half-imported encodings.idna, the codec lookup fails and is cached as
# missing, and every request of that process then fails with "unknown encoding: idna".
# Importing it here, in the importing thread before any delivery thread exists, closes that.
import encodings.idna  # noqa: F401
from collections.abc import Mapping

import attrs


@attrs.frozen
class Request:
    """One HTTP request, fully encoded: the transport only puts it on the wire."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    timeout: float


@attrs.frozen
class Response:
    """One HTTP answer. ``headers`` keys are lower-case."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")
