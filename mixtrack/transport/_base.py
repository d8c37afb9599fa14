"""Plain values that cross the transport boundary."""

from __future__ import annotations

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
