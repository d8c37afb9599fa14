"""What all adapters share: the missing-extra message and the exposure hook tracker."""

from __future__ import annotations

from typing import Any

import mixtrack_flags
import pytest
from mixtrack_flags import ExposureHookTracker
from mixtrack_flags._common import require

from mixtrack.exposure import Experiments, MemoryLedger
from mixtrack.flags import StaticFlags

from ._support import exposures

FLAGS = StaticFlags({"exp": {"a": 100}})


def test_missing_sdk_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'mixtrack\[statsig\]'"):
        require("no_such_sdk_module", extra="statsig", package="statsig-python-core")
    with pytest.raises(ImportError, match=r"pip install 'mixpanel>=5.4'"):
        require("no_such_sdk_module", package="mixpanel>=5.4")


def test_every_adapter_is_importable_from_the_package():
    for name in mixtrack_flags.__all__:
        adapter = getattr(mixtrack_flags, name)
        assert adapter.__doc__ and ">>>" in adapter.__doc__, name
    with pytest.raises(AttributeError):
        mixtrack_flags.NoSuchFlags  # noqa: B018


def test_hook_runs_once_per_exposure(events):
    calls: list[tuple[str, str, str]] = []

    def hook(distinct_id: str, experiment: str, properties: Any) -> None:
        calls.append((distinct_id, experiment, properties["Variant name"]))

    tracker = ExposureHookTracker(events.client, hook, only_provider="static")
    experiments = Experiments(tracker, FLAGS, ledger=MemoryLedger())
    for _ in range(3):
        experiments.variant("u", "exp").expose()
    events.client.track("u", "Signed up")  # not an exposure: no hook
    assert calls == [("u", "exp", "a")]
    assert tracker.flush(timeout=5.0)  # the rest of the client is there


def test_hook_for_another_provider_is_skipped(events):
    calls: list[str] = []
    tracker = ExposureHookTracker(events.client, lambda *a: calls.append(a[0]), only_provider="x")
    Experiments(tracker, FLAGS, ledger=MemoryLedger()).variant("u", "exp").expose()
    assert calls == []
    assert len(exposures(events)) == 1


def test_hook_errors_do_not_resend(events, caplog):
    def broken(distinct_id: str, experiment: str, properties: Any) -> None:
        raise RuntimeError("provider down")

    experiments = Experiments(ExposureHookTracker(events.client, broken), FLAGS)
    assert experiments.variant("u", "exp").expose() is True
    assert experiments.variant("u", "exp").expose() is False
    assert len(exposures(events)) == 1
    assert "exposure hook failed" in caplog.text
