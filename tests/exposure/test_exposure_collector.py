"""What arrives at a real local collector: exactly once, replays collapse, identities join."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mixtrack.exposure import Experiments, Exposure, MemoryLedger, RedisLedger
from mixtrack.flags import StaticFlags

from .test_exposure_concurrency import USERS, render_in_threads

CHECKOUT = {"checkout_redesign": {"control": 50, "treatment": 50}}


def test_exposure_is_stored_as_sent(mixtrack_client: Any, mixtrack_collector: Any) -> None:
    experiments = Experiments(mixtrack_client, StaticFlags(CHECKOUT))
    variant = experiments.variant("user-42", "checkout_redesign")
    assert mixtrack_collector.events("$experiment_started") == []  # evaluation sends nothing
    variant.expose()
    variant.expose()
    [event] = mixtrack_collector.events("$experiment_started")
    assert event["properties"]["distinct_id"] == "user-42"
    assert event["properties"]["Experiment name"] == "checkout_redesign"
    assert event["properties"]["Variant name"] == variant.name
    assert mixtrack_collector.rejected() == []


@pytest.mark.slow
def test_32_threads_5_renders_1000_users_exactly_1000_at_the_collector(
    mixtrack_client: Any, mixtrack_collector: Any
) -> None:
    experiments = Experiments(mixtrack_client, StaticFlags(CHECKOUT), ledger=MemoryLedger())
    render_in_threads(experiments, threads=32, rounds=5)
    assert mixtrack_client.flush(timeout=60.0)
    stored = mixtrack_collector.events("$experiment_started")
    counts = Counter(event["properties"]["distinct_id"] for event in stored)
    assert sorted(counts) == sorted(USERS)
    assert set(counts.values()) == {1}
    # Exposures are never sent twice; a copy reaches the collector only when a batch is
    # retried after an answer was lost (a timeout on a loaded machine), and is dropped there.
    assert mixtrack_client.stats().enqueued == 1000  # the SDK sent each exposure once
    duplicates = mixtrack_collector.stats()["duplicates_dropped"]
    assert duplicates == 0 or mixtrack_client.stats().retries > 0, duplicates


def test_a_replayed_exposure_collapses_at_the_collector(
    mixtrack_client: Any, mixtrack_collector: Any
) -> None:
    exposure = Exposure("user-1", "checkout_redesign", "treatment", provider="static", time=1.7e9)
    exposure.send(mixtrack_client)
    exposure.send(mixtrack_client)  # e.g. a process that replays its spool after a crash
    assert len(mixtrack_collector.events("$experiment_started")) == 1
    assert mixtrack_collector.stats()["duplicates_dropped"] == 1


@pytest.mark.mixtrack_identity("original")  # client.identify sends $identify
def test_an_anonymous_exposure_joins_the_identified_user(
    mixtrack_client: Any, mixtrack_collector: Any
) -> None:
    experiments = Experiments(mixtrack_client, StaticFlags(CHECKOUT))
    experiments.variant("anon-7f3", "checkout_redesign").expose()
    # At login: link the ids for exposure, and in Mixpanel for the reports.
    experiments.identify("anon-7f3", "user-42")
    mixtrack_client.identify("user-42", anon_id="anon-7f3")
    assert experiments.variant("user-42", "checkout_redesign").expose() is False

    [event] = mixtrack_collector.events("$experiment_started", "user-42", identity=True)
    assert event["properties"]["distinct_id"] == "anon-7f3"


def test_excluded_users_never_reach_the_collector(
    mixtrack_client: Any, mixtrack_collector: Any
) -> None:
    spec = {"beta": {"variants": ["on"], "targeting": {"plan": "pro"}, "holdout": 50}}
    experiments = Experiments(mixtrack_client, StaticFlags(spec))
    for user in USERS[:200]:
        experiments.variant(user, "beta", {"plan": "free"}).expose()
    assert mixtrack_collector.events("$experiment_started") == []
    for user in USERS[:200]:
        experiments.variant(user, "beta", {"plan": "pro"}).expose()
    stored = mixtrack_collector.events("$experiment_started")
    assert 60 < len(stored) < 140  # the holdout kept about half out


def test_redis_outage_mid_traffic_still_delivers_each_user_once_per_process(
    mixtrack_client: Any, mixtrack_collector: Any, redis_server: Any
) -> None:
    experiments = Experiments(
        mixtrack_client,
        StaticFlags(CHECKOUT),
        ledger=RedisLedger(redis_server.url),
        ledger_retry_interval=0,
    )
    for user in USERS[:100]:
        experiments.variant(user, "checkout_redesign").expose()
    redis_server.stop()
    for user in USERS[100:200] * 3:  # never raises; the memory fallback dedups
        experiments.variant(user, "checkout_redesign").expose()
    counts = Counter(
        e["properties"]["distinct_id"] for e in mixtrack_collector.events("$experiment_started")
    )
    assert sorted(counts) == sorted(USERS[:200])
    assert set(counts.values()) == {1}
    assert experiments.stats().ledger_errors > 0
