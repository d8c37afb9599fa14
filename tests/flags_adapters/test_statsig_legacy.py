"""Statsig's legacy SDK on bootstrapped specs; its event log goes to a server on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest
from mixtrack_flags.statsig_legacy import StatsigLegacyFlags
from statsig import StatsigOptions, StatsigUser
from statsig.statsig_server import StatsigServer

from mixtrack.exposure import Experiments, MemoryLedger

from ._statsig_specs import legacy_specs
from ._support import LocalServer, assert_exposed_once, experiments_for, exposures, render

SPECS = json.dumps(legacy_specs())


@pytest.fixture
def statsig_api() -> Iterator[LocalServer]:
    routes = {
        "/v1/download_config_specs": (200, SPECS.encode()),
        "/v1/log_event": (202, b'{"success": true}'),
        "/v1/get_id_lists": (200, b"{}"),
    }
    with LocalServer(routes) as server:
        yield server


@pytest.fixture
def server(statsig_api: LocalServer) -> Iterator[StatsigServer]:
    options = StatsigOptions(
        api=f"{statsig_api.url}/v1/",
        bootstrap_values=SPECS,
        disable_diagnostics=True,
        logging_interval=3600,
        rulesets_sync_interval=3600,
        idlists_sync_interval=3600,
        fallback_to_statsig_api=False,
    )
    statsig = StatsigServer()
    statsig.initialize("secret-local", options)
    yield statsig
    statsig.shutdown()


def logged_exposures(statsig: StatsigServer, api: LocalServer) -> list[tuple[str, str]]:
    statsig.flush()
    found = []
    for request in list(api.requests):
        if request["path"] != "/v1/log_event":
            continue
        body = request["body"]
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        for event in json.loads(body)["events"]:
            if event["eventName"] == "statsig::config_exposure":
                found.append((event["user"]["userID"], event["metadata"]["config"]))
    return found


def test_evaluation_sends_nothing(events, server, statsig_api):
    experiments = experiments_for(events, StatsigLegacyFlags(server))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout_exp", {"plan": "pro"})
    assert logged_exposures(server, statsig_api) == []
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events, server, statsig_api):
    flags = StatsigLegacyFlags(server)
    users = [f"user-{n}" for n in range(12)]
    groups = {user: flags.evaluate(user, "checkout_exp", {}).variant for user in users}
    assert set(groups.values()) == {"control", "Treatment B"}
    experiments = experiments_for(events, flags)
    for user in users:
        render(experiments, user, "checkout_exp", times=3)
    assert len(exposures(events)) == 12
    assert_exposed_once(events, users[0], "checkout_exp", groups[users[0]] or "", "statsig")
    assert logged_exposures(server, statsig_api) == []


def test_excluded_users_are_not_in_experiment(events, server):
    variant = experiments_for(events, StatsigLegacyFlags(server)).variant(
        "user-1", "checkout_exp", {"plan": "free"}
    )
    assert (variant.name, variant.value) == (None, {"color": "grey"})
    assert variant.expose() is False


def test_tracker_tells_statsig_once_at_render(events, server, statsig_api):
    flags = StatsigLegacyFlags(server)
    experiments = Experiments(flags.tracker(events.client), flags, ledger=MemoryLedger())
    experiments.variant("user-3", "checkout_exp")
    assert logged_exposures(server, statsig_api) == []
    for _ in range(3):
        experiments.variant("user-3", "checkout_exp").expose()
    assert logged_exposures(server, statsig_api) == [("user-3", "checkout_exp")]


def test_what_the_legacy_sdk_does_by_default(server, statsig_api):
    server.get_experiment(StatsigUser("user-5"), "checkout_exp")
    assert logged_exposures(server, statsig_api) == [("user-5", "checkout_exp")]
