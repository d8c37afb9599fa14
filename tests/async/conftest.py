"""The asyncio client's tests share the scripted local server of the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._sink import Sink


@pytest.fixture
def collector() -> Iterator[Sink]:
    server = Sink()
    try:
        yield server
    finally:
        server.close()
