"""Fixtures every test area shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._sink import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The scripted local server of tests/_sink.py, one per test."""
    server = Sink()
    try:
        yield server
    finally:
        server.close()
