from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._sink import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    try:
        yield server
    finally:
        server.close()
