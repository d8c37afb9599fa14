"""The pytest plugin (entry point ``pytest11``): mixtrack's fixtures for your test suite.

- ``mixtrack_events``: a :class:`~mixtrack.testing.CapturedEvents` around a client on an
  in-memory transport: ``mixtrack_events.client.track(...)``, then
  ``mixtrack_events.named("Signed up")`` / ``.for_user("user-42")`` / ``.assert_tracked(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mixtrack.testing import CapturedEvents, capture


@pytest.fixture
def mixtrack_events() -> Iterator[CapturedEvents]:
    """A client whose messages are captured in memory, flushed before every read."""
    events = capture()
    try:
        yield events
    finally:
        events.client.shutdown(timeout=5.0)
