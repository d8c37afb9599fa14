"""Fixtures for exposure tests: a recording tracker and a real, throw-away redis-server."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests._redis import RedisServer


class RecordingTracker:
    """A Tracker that keeps every ``track`` call, thread-safely, in call order."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def track(
        self,
        distinct_id: str | None,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        time: datetime | float | None = None,
        insert_id: str | None = None,
    ) -> None:
        with self._lock:
            self.calls.append(
                {
                    "distinct_id": distinct_id,
                    "event": event,
                    "properties": dict(properties or {}),
                    "time": time,
                    "insert_id": insert_id,
                }
            )

    def named(self, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call for call in self.calls if call["event"] == event]


@pytest.fixture
def tracker() -> RecordingTracker:
    return RecordingTracker()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server for one test."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
