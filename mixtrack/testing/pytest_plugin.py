"""The pytest plugin (entry point ``pytest11``): mixtrack's fixtures for your test suite.

- ``mixtrack_events``: a :class:`~mixtrack.testing.CapturedEvents` around a client on an
  in-memory transport: ``mixtrack_events.client.track(...)``, then
  ``mixtrack_events.named("Signed up")`` / ``.for_user("user-42")`` / ``.assert_tracked(...)``.
  Both clients run strict (``invalid="raise"``): a value that cannot be sent fails the test,
  and so does an event off the tracking plan given by ``@pytest.mark.mixtrack_plan(PATH)`` or
  the ini option ``mixtrack_plan``.
- ``mixtrack_collector``: a real local collector (one per session, emptied before each test).
- ``mixtrack_client``: a :class:`mixtrack.Client` pointed at ``mixtrack_collector``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mixtrack.testing import CapturedEvents, capture
from mixtrack.testing._collector_fixtures import (
    _mixtrack_collector_session,
    mixtrack_client,
    mixtrack_collector,
    plan_for,
)

__all__ = [
    "_mixtrack_collector_session",
    "mixtrack_client",
    "mixtrack_collector",
    "mixtrack_events",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "mixtrack_identity",
        "ID-merge system of the mixtrack_collector fixture: simplified (default) or original",
        default="simplified",
    )
    parser.addini(
        "mixtrack_plan",
        "tracking plan (folder or Lexicon bulk JSON, relative to the rootdir) that the "
        "mixtrack_events and mixtrack_client fixtures check every event against",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mixtrack_identity(mode): the ID-merge system mixtrack_collector uses in this test",
    )
    config.addinivalue_line(
        "markers",
        "mixtrack_plan(path): the tracking plan the mixtrack fixtures' clients check events by",
    )


@pytest.fixture
def mixtrack_events(request: pytest.FixtureRequest) -> Iterator[CapturedEvents]:
    """A client whose messages are captured in memory, flushed before every read."""
    plan = plan_for(request)
    events = capture() if plan is None else capture(plan=plan)
    try:
        yield events
    finally:
        events.client.shutdown(timeout=5.0)
