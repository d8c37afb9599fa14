"""The test apps of the framework adapters, each on its real server, sending to the collector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mixtrack.testing import Collector
from tests.visible import _servers


@pytest.fixture(scope="module", params=["django", "flask", "fastapi"])
def app_url(
    request: pytest.FixtureRequest,
    _mixtrack_collector_session: Collector,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The Django, Flask or FastAPI test app on a real server (one per test module)."""
    log_dir = tmp_path_factory.mktemp("servers")
    with _servers.serve(request.param, _mixtrack_collector_session.url, log_dir) as url:
        yield url
