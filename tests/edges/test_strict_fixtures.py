"""The pytest plugin's fixtures run strict and ignore MIXTRACK_* variables, so a test suite
fails loudly on a value that cannot be sent, whatever the machine's environment says."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mixtrack
from mixtrack.testing import capture

SUITE = textwrap.dedent(
    """
    import pytest
    import mixtrack


    class User:
        pass


    def test_events_fixture_is_strict(mixtrack_events):
        assert mixtrack_events.client.config.invalid == "raise"
        with pytest.raises(mixtrack.ValidationError, match="property 'user'"):
            mixtrack_events.client.track("user-42", "Viewed", {"user": User()})
        mixtrack_events.client.track("user-42", "Viewed", {"page": "/"})
        mixtrack_events.assert_tracked("Viewed", page="/")


    def test_client_fixture_is_strict(mixtrack_client, mixtrack_collector):
        assert mixtrack_client.config.invalid == "raise"
        assert mixtrack_client.config.api_host == mixtrack_collector.url
        with pytest.raises(mixtrack.ValidationError, match="distinct_id"):
            mixtrack_client.track(None, "Viewed")
        mixtrack_client.track("user-42", "Viewed")
        assert mixtrack_collector.events("Viewed")
    """
)


def test_the_plugin_fixtures_are_strict_in_a_hostile_environment(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = dict(os.environ)
    env.update(
        MIXTRACK_DISABLED="1",
        MIXTRACK_INVALID="drop",
        MIXTRACK_API_HOST="http://127.0.0.1:1",
        MIXTRACK_ENDPOINT="track",
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_capture_is_strict_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_INVALID", "drop")
    monkeypatch.setenv("MIXTRACK_DISABLED", "1")
    strict = capture()
    with pytest.raises(mixtrack.ValidationError):
        strict.client.track("user-42", "Viewed", {"user": object()})
    strict.client.track("user-42", "Viewed")
    assert len(strict) == 1
    lenient = capture(invalid="drop")
    lenient.client.track("user-42", "Viewed", {"user": object()})
    assert len(lenient) == 1 and lenient.client.stats().invalid == 1
    strict.client.shutdown(5)
    lenient.client.shutdown(5)
