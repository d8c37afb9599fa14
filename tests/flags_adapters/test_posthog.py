"""PostHog: the real SDK evaluating locally from a definitions cache; no capture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mixtrack_flags.posthog import PostHogFlags
from posthog import Posthog

from ._support import assert_exposed_once, experiments_for, exposures, render

NOT_FREE = {"key": "plan", "value": ["free"], "operator": "is_not", "type": "person"}
CHECKOUT = {
    "id": 1,
    "key": "checkout",
    "active": True,
    "filters": {
        "groups": [{"properties": [NOT_FREE], "rollout_percentage": 80}],
        "multivariate": {
            "variants": [
                {"key": "control", "rollout_percentage": 50},
                {"key": "Treatment B", "rollout_percentage": 50},
            ]
        },
        "payloads": {"control": '"blue"', "Treatment B": '{"color": "green"}'},
    },
}
BANNER = {
    "id": 2,
    "key": "banner",
    "active": True,
    "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]},
}


class LocalDefinitions:
    """A FlagDefinitionCacheProvider that never fetches: the definitions are these."""

    def should_fetch_flag_definitions(self) -> bool:
        return False

    def get_flag_definitions(self) -> dict[str, Any]:
        return {"flags": [CHECKOUT, BANNER], "group_type_mapping": {}, "cohorts": {}}

    def on_flag_definitions_received(self, data: dict[str, Any]) -> None:
        pass

    def shutdown(self) -> None:
        pass


@pytest.fixture
def captured() -> list[dict[str, Any]]:
    """Everything PostHog tries to capture (seen in before_send, then dropped)."""
    return []


@pytest.fixture
def posthog(captured: list[dict[str, Any]]) -> Iterator[Posthog]:
    def keep(message: dict[str, Any]) -> None:
        captured.append(message)

    client = Posthog(
        "phc_local",
        secret_key="phs_local",
        host="http://127.0.0.1:9",
        flag_definition_cache_provider=LocalDefinitions(),
        before_send=keep,
        sync_mode=True,
    )
    yield client
    client.shutdown()


PRO = {"plan": "pro"}


def split(flags: PostHogFlags) -> tuple[list[str], list[str]]:
    inside, outside = [], []
    for n in range(30):
        user = f"user-{n}"
        (inside if flags.evaluate(user, "checkout", PRO).in_experiment else outside).append(user)
    return inside, outside


def test_evaluation_sends_nothing(events, posthog, captured):
    experiments = experiments_for(events, PostHogFlags(posthog))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout", PRO)
    assert captured == []  # no $feature_flag_called
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events, posthog, captured):
    flags = PostHogFlags(posthog)
    inside, outside = split(flags)
    assert inside and outside  # 80% rollout
    experiments = experiments_for(events, flags)
    shown = {}
    for user in inside[:8]:
        for _ in range(3):
            variant = experiments.variant(user, "checkout", PRO)
            variant.expose()
        shown[user] = variant
    assert {v.name for v in shown.values()} == {"control", "Treatment B"}
    assert len(exposures(events)) == 8
    user, variant = next(iter(shown.items()))
    assert variant.value == {"control": "blue", "Treatment B": {"color": "green"}}[variant.name]
    assert_exposed_once(events, user, "checkout", variant.name or "", "posthog")
    assert captured == []


def test_users_outside_rollout_or_targeting_are_not_in_experiment(events, posthog):
    flags = PostHogFlags(posthog)
    _, outside = split(flags)
    experiments = experiments_for(events, flags)
    rolled_out = experiments.variant(outside[0], "checkout", PRO)
    free = experiments.variant("user-1", "checkout", {"plan": "free"})
    unknown_property = experiments.variant("user-1", "checkout")  # needs "plan"
    unknown = experiments.variant("user-1", "nope", PRO)
    found = [rolled_out, free, unknown_property, unknown]
    assert [v.name for v in found] == [None] * 4
    assert unknown_property.reason == "not evaluated locally"
    assert not any(v.expose() for v in found)
    assert exposures(events) == []


def test_boolean_flag_is_served_but_not_exposed(events, posthog):
    variant = render(experiments_for(events, PostHogFlags(posthog)), "user-1", "banner")
    assert variant == "on" and bool(variant) and not variant.in_experiment
    assert exposures(events) == []


def test_what_posthog_does_by_default(posthog, captured):
    """A plain read captures $feature_flag_called: at evaluation, not at render."""
    snapshot = posthog.evaluate_flags(
        "user-1", person_properties=PRO, only_evaluate_locally=True, flag_keys=["checkout"]
    )
    assert captured == []
    snapshot.get_flag("checkout")
    assert [m["event"] for m in captured] == ["$feature_flag_called"]
