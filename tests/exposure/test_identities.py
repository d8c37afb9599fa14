"""Exposure dedupe over every id of a person (device id and user id), across a fleet."""

from __future__ import annotations

from typing import Any

import pytest

from mixtrack.exposure import Experiments, MemoryLedger, RedisLedger
from mixtrack.flags import StaticFlags
from tests.exposure.conftest import RecordingTracker

FLAGS = StaticFlags({"pricing": {"grid": 50, "list": 50}})
DEVICE = "$device:0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10"


def _fleet(kind: str, request: pytest.FixtureRequest, tracker: RecordingTracker) -> Any:
    """Two app processes' Experiments over one ledger (one in-process ledger for memory)."""
    if kind == "memory":
        ledger = MemoryLedger()
        return Experiments(tracker, FLAGS, ledger=ledger), Experiments(
            tracker, FLAGS, ledger=ledger
        )
    server = request.getfixturevalue("redis_server")
    return tuple(
        Experiments(tracker, FLAGS, ledger=RedisLedger(server.url, prefix="ids:")) for _ in range(2)
    )


def _user_for_the_other_variant(experiments: Experiments, shown: str) -> str:
    return next(
        user
        for user in (f"user-{n}" for n in range(200))
        if experiments.variant(user, "pricing").name != shown
    )


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_device_then_user_is_one_exposure_and_keeps_the_variant(
    kind: str, request: pytest.FixtureRequest, tracker: RecordingTracker
) -> None:
    first, second = _fleet(kind, request, tracker)
    shown = first.variant(DEVICE, "pricing")
    assert shown.expose() is True
    # Another process, a login it never saw: the user id plus the same device id.
    user = _user_for_the_other_variant(second, shown.name)
    again = second.variant(user, "pricing", identities=[DEVICE])
    assert again.name == shown.name  # the variant shown first
    assert again.expose() is False
    assert len(tracker.named("$experiment_started")) == 1
    assert second.stats().duplicates == 1


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_user_first_records_the_device_too(
    kind: str, request: pytest.FixtureRequest, tracker: RecordingTracker
) -> None:
    first, second = _fleet(kind, request, tracker)
    assert first.variant("user-7", "pricing", identities=[DEVICE]).expose() is True
    assert second.variant(DEVICE, "pricing").expose() is False
    assert len(tracker.named("$experiment_started")) == 1


def test_a_discarded_exposure_frees_every_id(tracker: RecordingTracker) -> None:
    experiments = Experiments(tracker, FLAGS, ledger=MemoryLedger())
    with experiments.request_scope():
        assert experiments.variant("user-7", "pricing", identities=[DEVICE]).expose()
    # Left without commit: a failed page. The next render exposes under either id.
    assert experiments.variant(DEVICE, "pricing").expose() is True
    assert tracker.named("$experiment_started")[0]["distinct_id"] == DEVICE


def test_a_withholding_scope_touches_neither_ledger_nor_client(tracker: RecordingTracker) -> None:
    ledger = MemoryLedger()
    experiments = Experiments(tracker, FLAGS, ledger=ledger)
    with experiments.request_scope() as scope:
        scope.withhold(keep=True)
        variant = experiments.variant(DEVICE, "pricing")
        assert variant.expose() is False
        assert experiments.variant(DEVICE, "pricing").expose() is False
        assert [kept.name for kept in scope.kept] == [variant.name]
        scope.commit()
    assert len(ledger) == 0 and tracker.calls == []
    assert experiments.stats().withheld == 2
