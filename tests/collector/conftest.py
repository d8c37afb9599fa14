"""Fixtures for the collector's own tests: the public ones, plus raw HTTP helpers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mixtrack.testing._collector import Collector
from mixtrack.testing._collector_fixtures import (  # noqa: F401 - fixtures
    _mixtrack_collector_session,
    mixtrack_client,
    mixtrack_collector,
)


@pytest.fixture
def collector(mixtrack_collector: Collector) -> Collector:  # noqa: F811
    return mixtrack_collector


@pytest.fixture
def http(collector: Collector) -> Iterator[httpx.Client]:
    """Raw HTTP to the collector: what any client library does on the wire."""
    with httpx.Client(base_url=collector.url, timeout=10, trust_env=False) as client:
        yield client
