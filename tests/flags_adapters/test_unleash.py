"""Unleash: the real client on a bootstrapped cache, no fetching, metrics off."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mixtrack_flags.unleash import UnleashFlags
from UnleashClient import UnleashClient
from UnleashClient.cache import FileCache
from UnleashClient.events import UnleashEvent

from ._support import assert_exposed_once, experiments_for, exposures, render


def variant(name: str, value: str, kind: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "weight": 500,
        "stickiness": "userId",
        "payload": {"type": kind, "value": value},
    }


def toggle(name: str, *, impressions: bool, rollout: str = "100", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "enabled": True,
        "impressionData": impressions,
        "strategies": [
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": rollout, "stickiness": "userId", "groupId": name},
                "constraints": [{"contextName": "plan", "operator": "NOT_IN", "values": ["free"]}],
            }
        ],
        **extra,
    }


FEATURES = [
    toggle("checkout", impressions=False, variants=[
        variant("control", "blue"), variant("Treatment B", "green")]),
    toggle("layout", impressions=True, variants=[
        variant("grid", '{"columns": 3}', "json"), variant("list", '{"columns": 1}', "json")]),
    toggle("no-variants", impressions=False),
    {**toggle("retired", impressions=False), "enabled": False},
]  # fmt: skip


class ImpressionLog:
    """Unleash's own event callback: collects impression events (a background thread)."""

    def __init__(self) -> None:
        self.events: list[UnleashEvent] = []
        self._changed = threading.Condition()

    def __call__(self, event: Any) -> None:
        if isinstance(event, UnleashEvent):
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def wait_for(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.events) >= count, timeout=10)


@pytest.fixture
def impressions() -> ImpressionLog:
    return ImpressionLog()


@pytest.fixture
def unleash(tmp_path: Path, impressions: ImpressionLog) -> Iterator[UnleashClient]:
    app = f"mixtrack-{tmp_path.name}"  # one Unleash instance per app name
    cache = FileCache(app, directory=str(tmp_path))
    cache.bootstrap_from_dict({"version": 1, "features": FEATURES})
    client = UnleashClient(
        url="http://unleash.invalid/api",
        app_name=app,
        cache=cache,
        disable_metrics=True,
        disable_registration=True,
        event_callback=impressions,
    )
    client.initialize_client(fetch_toggles=False)
    yield client
    client.destroy()


def test_evaluation_sends_nothing(events, unleash):
    experiments = experiments_for(events, UnleashFlags(unleash))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout")
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events, unleash):
    experiments = experiments_for(events, UnleashFlags(unleash))
    shown = {f"user-{n}": render(experiments, f"user-{n}", "checkout", times=3) for n in range(10)}
    assert {v.name for v in shown.values()} == {"control", "Treatment B"}
    assert len(exposures(events)) == 10
    user, found = next(iter(shown.items()))
    assert found.value == {"control": "blue", "Treatment B": "green"}[found.name or ""]
    assert_exposed_once(events, user, "checkout", found.name or "", "unleash")


def test_excluded_users_and_toggles_without_variants_are_not_in_experiment(events, unleash):
    experiments = experiments_for(events, UnleashFlags(unleash))
    free = experiments.variant("user-1", "checkout", {"plan": "free"})
    plain = experiments.variant("user-1", "no-variants")
    off = experiments.variant("user-1", "retired")
    unknown = experiments.variant("user-1", "nope")
    assert [v.name for v in (free, plain, off, unknown)] == [None] * 4
    assert (free.reason, plain.reason, off.reason) == ("toggle off", "no variant", "toggle off")
    assert not any(v.expose() for v in (free, plain, off, unknown))
    assert exposures(events) == []


def test_impression_events_follow_evaluations_not_exposures(events, unleash, impressions):
    """Unleash's impression events fire on each evaluation of a toggle that asks for them."""
    experiments = experiments_for(events, UnleashFlags(unleash))
    experiments.variant("user-1", "checkout")  # impressionData off: no impression
    for _ in range(3):
        experiments.variant("user-1", "layout").expose()
    assert impressions.wait_for(3)
    assert [(e.feature_name, e.event_type.value) for e in impressions.events] == [
        ("layout", "variant")
    ] * 3
    assert len(exposures(events)) == 1


def test_json_payloads_and_properties(events, unleash):
    flags = UnleashFlags(unleash)
    assignment = flags.evaluate("user-3", "layout", {"plan": "pro", "beta": True})
    assert assignment.value in ({"columns": 3}, {"columns": 1})
    assert flags.context("u", {"beta": True, "age": 3, "sessionId": "s"}) == {
        "userId": "u",
        "properties": {"beta": "true", "age": "3"},
        "sessionId": "s",
    }
