"""pytest fixtures around :class:`mixtrack.testing.Collector`.

- ``mixtrack_collector``: one real collector per test session on a free port, emptied (events,
  profiles, rejections, counters, faults) before each test. Its ID-merge system is the ini
  option ``mixtrack_identity`` (``simplified``, the default, or ``original``); a test marked
  ``@pytest.mark.mixtrack_identity("original")`` gets that system for itself.
- ``mixtrack_client``: a :class:`mixtrack.Client` pointed at it; every read from the collector
  flushes the client first, and the client is shut down after the test. It runs strict
  (``invalid="raise"``), so a value that cannot be sent fails the test at the call.

>>> def test_signup(mixtrack_client, mixtrack_collector):  # doctest: +SKIP
...     mixtrack_client.track("user-42", "Signed up", {"plan": "pro"})
...     assert mixtrack_collector.events("Signed up", plan="pro")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mixtrack.client import Client
    from mixtrack.testing._collector import Collector

# The private session fixture is listed so that `import *` in a plugin registers it too.
__all__ = ["_mixtrack_collector_session", "mixtrack_client", "mixtrack_collector"]

TEST_TOKEN = "mixtrack-test-token"


def plan_for(request: pytest.FixtureRequest) -> str | None:
    """The tracking plan a fixture's client checks events against: the test's
    ``@pytest.mark.mixtrack_plan(PATH)``, else the ini option ``mixtrack_plan`` (relative to
    the rootdir), else none."""
    marker = request.node.get_closest_marker("mixtrack_plan")
    if marker is not None:
        return str(marker.args[0])
    value = str(request.config.getini("mixtrack_plan") or "")
    return str(request.config.rootpath / value) if value else None


def default_identity(config: pytest.Config) -> str:
    """The ini option ``mixtrack_identity``, ``simplified`` when unset."""
    value = config.getini("mixtrack_identity")
    return str(value or "simplified")


@pytest.fixture(scope="session")
def _mixtrack_collector_session(request: pytest.FixtureRequest) -> Iterator[Collector]:
    from mixtrack.testing._collector import Collector

    with Collector(identity=default_identity(request.config)) as collector:
        yield collector


@pytest.fixture
def mixtrack_collector(
    _mixtrack_collector_session: Collector, request: pytest.FixtureRequest
) -> Iterator[Collector]:
    """A real local collector, empty at the start of the test."""
    collector = _mixtrack_collector_session
    collector.reset()
    marker = request.node.get_closest_marker("mixtrack_identity")
    collector.identity_mode = marker.args[0] if marker else default_identity(request.config)
    try:
        yield collector
    finally:
        collector.clear_faults()


@pytest.fixture
def mixtrack_client(
    mixtrack_collector: Collector, request: pytest.FixtureRequest
) -> Iterator[Client]:
    """A ``mixtrack.Client`` sending to ``mixtrack_collector``, flushed before each read.

    Strict (``invalid="raise"``) and independent of ``MIXTRACK_*`` variables; with a
    tracking plan (see :func:`plan_for`) an off-plan event raises ``OffPlanError``."""
    from mixtrack._config import Config
    from mixtrack.client import Client

    config = Config(
        token=TEST_TOKEN,
        api_host=mixtrack_collector.url,
        flush_interval=0.05,
        invalid="raise",
        plan=plan_for(request),
    )
    client = Client(config=config)
    undo = mixtrack_collector.before_read(lambda: client.flush(timeout=5.0))
    try:
        yield client
    finally:
        undo()
        client.shutdown(timeout=5.0)
