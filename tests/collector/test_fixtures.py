"""The documented pytest usage: mixtrack's own Client against the session collector."""

from __future__ import annotations

from mixtrack.client import Client
from mixtrack.testing._collector import Collector


def test_signup_is_tracked(mixtrack_client: Client, mixtrack_collector: Collector) -> None:
    mixtrack_client.track("user-42", "Signed up", {"plan": "pro"})
    [event] = mixtrack_collector.events("Signed up", plan="pro")  # the client is flushed first
    assert event["properties"]["distinct_id"] == "user-42"
    assert mixtrack_collector.stats()["requests_by_endpoint"] == {"import": 1}


def test_retries_after_503(mixtrack_client: Client, mixtrack_collector: Collector) -> None:
    mixtrack_collector.faults("status", status=503, retry_after=0, count=2)
    mixtrack_client.track("user-42", "Signed up")
    assert len(mixtrack_collector.events("Signed up")) == 1
    stats = mixtrack_collector.stats()
    assert stats["faulted_requests"] == 2 and stats["requests"] == 3


def test_each_test_starts_empty(mixtrack_collector: Collector) -> None:
    assert mixtrack_collector.events() == []
    assert mixtrack_collector.stats()["requests"] == 0


def test_the_plugin_loads_the_collector_only_when_a_test_asks_for_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mixtrack.testing.pytest_plugin, mixtrack.testing\n"
        "assert not [m for m in sys.modules if m.startswith('mixtrack.collector')], 'eager'\n"
        "from mixtrack.testing import Collector\n"
        "assert Collector.__name__ == 'Collector' and 'mixtrack.collector' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
