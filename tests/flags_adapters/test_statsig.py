"""Statsig (statsig-python-core): the real SDK on local specs; its event log goes to a
server on 127.0.0.1, so what Statsig would record is visible."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest
from mixtrack_flags.statsig import StatsigFlags
from statsig_python_core import Statsig, StatsigOptions, StatsigUser
from statsig_python_core.data_store import DataStore, DataStoreResponse

from mixtrack.exposure import Experiments, MemoryLedger

from ._statsig_specs import core_specs
from ._support import LocalServer, assert_exposed_once, experiments_for, exposures, render

SPECS = json.dumps(core_specs())


class LocalSpecs(DataStore):
    def get(self, key: str) -> DataStoreResponse:
        return DataStoreResponse(result=SPECS, time=1)


@pytest.fixture
def statsig_log() -> Iterator[LocalServer]:
    # The core SDK makes its requests from native code, where the Python guard cannot
    # see them: every URL it uses points here.
    routes = {
        "/v2/download_config_specs": (200, SPECS.encode()),
        "/v1/log_event": (202, b'{"success": true}'),
    }
    with LocalServer(routes) as server:
        yield server


@pytest.fixture
def statsig(statsig_log: LocalServer) -> Iterator[Statsig]:
    options = StatsigOptions(
        specs_url=f"{statsig_log.url}/v2/download_config_specs",
        log_event_url=f"{statsig_log.url}/v1/log_event",
        data_store=LocalSpecs(),
        specs_sync_interval_ms=3_600_000,
        fallback_to_statsig_api=False,
        output_log_level="none",
    )
    client = Statsig("secret-local", options)
    client.initialize().wait()
    yield client
    client.shutdown().wait()


def logged_exposures(statsig: Statsig, server: LocalServer) -> list[tuple[str, str]]:
    """(user, experiment) of every statsig::config_exposure Statsig has sent."""
    statsig.flush_events().wait()
    found = []
    for request in list(server.requests):
        if request["path"] != "/v1/log_event":
            continue
        body = request["body"]
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        for event in json.loads(body)["events"]:
            if event["eventName"] == "statsig::config_exposure":
                found.append((event["user"]["userID"], event["metadata"]["config"]))
    return found


def split(flags: StatsigFlags) -> dict[str, str]:
    return {
        f"user-{n}": flags.evaluate(f"user-{n}", "checkout_exp", {}).variant or ""
        for n in range(12)
    }


def test_evaluation_sends_nothing(events, statsig, statsig_log):
    experiments = experiments_for(events, StatsigFlags(statsig))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout_exp", {"plan": "pro"})
    assert logged_exposures(statsig, statsig_log) == []
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events, statsig, statsig_log):
    flags = StatsigFlags(statsig)
    groups = split(flags)
    assert set(groups.values()) == {"control", "Treatment B"}
    experiments = experiments_for(events, flags)
    for user in groups:
        assert render(experiments, user, "checkout_exp", times=3) == groups[user]
    assert len(exposures(events)) == len(groups)
    user = next(iter(groups))
    properties = assert_exposed_once(events, user, "checkout_exp", groups[user], "statsig")
    assert properties["Rule id"] == {"control": "g0", "Treatment B": "g1"}[groups[user]]
    assert logged_exposures(statsig, statsig_log) == []  # Statsig was not told


def test_excluded_and_unknown_are_not_in_experiment(events, statsig):
    experiments = experiments_for(events, StatsigFlags(statsig))
    free = experiments.variant("user-1", "checkout_exp", {"plan": "free"})
    unknown = experiments.variant("user-1", "nope")
    assert (free.name, free.value) == (None, {"color": "grey"})
    assert unknown.name is None and "Unrecognized" in unknown.reason
    assert not free.expose() and not unknown.expose()
    assert exposures(events) == []


def test_tracker_tells_statsig_once_at_render(events, statsig, statsig_log):
    flags = StatsigFlags(statsig)
    experiments = Experiments(flags.tracker(events.client), flags, ledger=MemoryLedger())
    for _ in range(3):
        experiments.variant("user-3", "checkout_exp", {"plan": "pro"})  # evaluated, not shown
    assert logged_exposures(statsig, statsig_log) == []
    for _ in range(3):
        experiments.variant("user-3", "checkout_exp", {"plan": "pro"}).expose()
    assert logged_exposures(statsig, statsig_log) == [("user-3", "checkout_exp")]
    assert len(exposures(events)) == 1


def test_tracker_waits_for_the_request_scope(events, statsig, statsig_log):
    flags = StatsigFlags(statsig)
    experiments = Experiments(flags.tracker(events.client), flags, ledger=MemoryLedger())
    with experiments.request_scope():  # a failed render: discarded
        experiments.variant("user-4", "checkout_exp").expose()
    assert logged_exposures(statsig, statsig_log) == []
    with experiments.request_scope() as scope:
        experiments.variant("user-4", "checkout_exp").expose()
        scope.commit()
    assert logged_exposures(statsig, statsig_log) == [("user-4", "checkout_exp")]


def test_what_statsig_does_by_default(statsig, statsig_log):
    statsig.get_experiment(StatsigUser("user-5"), "checkout_exp")  # evaluation only
    assert logged_exposures(statsig, statsig_log) == [("user-5", "checkout_exp")]
