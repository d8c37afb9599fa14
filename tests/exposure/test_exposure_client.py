"""Experiments through the real mixtrack.Client on an in-memory transport."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import mixtrack
from mixtrack.exposure import Experiments, MemoryLedger, exposure_insert_id
from mixtrack.flags import StaticFlags
from mixtrack.testing import InMemoryTransport

from .test_exposure_concurrency import USERS, render_in_threads

CHECKOUT = {"checkout_redesign": {"control": 50, "treatment": 50}}


@pytest.fixture
def transport() -> InMemoryTransport:
    return InMemoryTransport()


@pytest.fixture
def client(transport: InMemoryTransport) -> Iterator[mixtrack.Client]:
    client = mixtrack.Client("test-token", transport=transport, api_host="http://mixtrack.invalid")
    try:
        yield client
    finally:
        client.shutdown(timeout=5.0)


def exposures(client: mixtrack.Client, transport: InMemoryTransport) -> list[dict[str, Any]]:
    assert client.flush(timeout=30.0)
    return [e for e in transport.events() if e["event"] == "$experiment_started"]


def test_exposure_arrives_in_mixpanel_form(
    client: mixtrack.Client, transport: InMemoryTransport
) -> None:
    experiments = Experiments(client, StaticFlags(CHECKOUT), ledger=MemoryLedger())
    variant = experiments.variant("user-42", "checkout_redesign")
    assert exposures(client, transport) == []  # assignment alone sends nothing
    assert variant.expose() is True
    [event] = exposures(client, transport)
    properties = event["properties"]
    assert properties["distinct_id"] == "user-42"
    assert properties["Experiment name"] == "checkout_redesign"
    assert properties["Variant name"] == variant.name
    assert properties["$experiment_type"] == "ab_test"
    assert properties["Flag provider"] == "static"
    assert properties["$insert_id"] == exposure_insert_id("user-42", "checkout_redesign")
    assert properties["token"] == "test-token"


def test_discarded_scope_sends_nothing_and_a_later_commit_does(
    client: mixtrack.Client, transport: InMemoryTransport
) -> None:
    experiments = Experiments(client, StaticFlags(CHECKOUT))
    with experiments.request_scope() as scope:
        experiments.variant("user-1", "checkout_redesign").expose()
        scope.discard()
    assert exposures(client, transport) == []
    with experiments.request_scope() as scope:
        experiments.variant("user-1", "checkout_redesign").expose()
        scope.commit()
    assert [e["properties"]["distinct_id"] for e in exposures(client, transport)] == ["user-1"]


@pytest.mark.slow
def test_32_threads_5_renders_1000_users_exactly_1000_delivered(
    client: mixtrack.Client, transport: InMemoryTransport
) -> None:
    experiments = Experiments(client, StaticFlags(CHECKOUT), ledger=MemoryLedger())
    render_in_threads(experiments, threads=32, rounds=5)
    delivered = Counter(e["properties"]["distinct_id"] for e in exposures(client, transport))
    assert sorted(delivered) == sorted(USERS)
    assert set(delivered.values()) == {1}
    assert client.stats().dropped == 0
