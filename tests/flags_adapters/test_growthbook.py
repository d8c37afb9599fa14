"""GrowthBook: the real SDK evaluating local features; no tracking callback at evaluation."""

from __future__ import annotations

from typing import Any

import pytest
from growthbook import GrowthBook
from mixtrack_flags.growthbook import GrowthBookFlags

from ._support import assert_exposed_once, experiments_for, exposures, render

FEATURES: dict[str, Any] = {
    "checkout": {
        "defaultValue": "blue",
        "rules": [
            {"id": "fr-free", "condition": {"plan": "free"}, "force": "grey"},
            {
                "id": "fr-exp",
                "key": "exp-checkout",
                "variations": ["blue", "green"],
                "weights": [0.5, 0.5],
                "coverage": 0.7,
                "hashAttribute": "id",
                "meta": [{"key": "control"}, {"key": "Treatment B"}],
            },
        ],
    },
    "no-meta": {
        "defaultValue": 1,
        "rules": [{"key": "exp-plain", "variations": [1, 2], "hashAttribute": "id"}],
    },
}


def split_users(flags: GrowthBookFlags, count: int = 40) -> tuple[list[str], list[str]]:
    inside, outside = [], []
    for n in range(count):
        user = f"user-{n}"
        (inside if flags.evaluate(user, "checkout", {}).in_experiment else outside).append(user)
    return inside, outside


def test_evaluation_sends_nothing(events):
    experiments = experiments_for(events, GrowthBookFlags(FEATURES))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout")
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events):
    flags = GrowthBookFlags(FEATURES)
    inside, outside = split_users(flags)
    assert inside and outside  # coverage 0.7 leaves some users out
    experiments = experiments_for(events, flags)
    shown = {user: render(experiments, user, "checkout", times=3).name for user in inside[:8]}
    assert set(shown.values()) == {"control", "Treatment B"}
    assert len(exposures(events)) == 8
    user = inside[0]
    assert_exposed_once(events, user, "checkout", shown[user], "growthbook", **{
        "$experiment_id": "exp-checkout",
        "Variation id": 0 if shown[user] == "control" else 1,
        "Hash attribute": "id",
        "Hash used": True,
        "Rule id": "fr-exp",
    })  # fmt: skip


def test_users_outside_coverage_get_the_default_and_no_exposure(events):
    flags = GrowthBookFlags(FEATURES)
    _, outside = split_users(flags)
    variant = experiments_for(events, flags).variant(outside[0], "checkout")
    assert variant.name is None and variant.value == "blue"
    assert variant.reason == "defaultValue"
    assert variant.expose() is False
    assert exposures(events) == []


def test_force_rules_and_unknown_features_are_not_in_experiment(events):
    experiments = experiments_for(events, GrowthBookFlags(FEATURES))
    forced = experiments.variant("user-1", "checkout", {"plan": "free"})
    unknown = experiments.variant("user-1", "nope")
    assert (forced.name, forced.value, forced.reason) == (None, "grey", "force")
    assert (unknown.name, unknown.reason) == (None, "unknownFeature")
    assert not forced.expose() and not unknown.expose()
    assert exposures(events) == []


def test_forced_variation_is_shown_but_not_exposed(events):
    forced = {"exp-checkout": 1}
    flags = GrowthBookFlags(FEATURES, forced_variations=forced)
    variant = experiments_for(events, flags).variant("user-1", "checkout")
    assert variant == "Treatment B" and variant.reason == "forced"
    assert variant.expose() is False
    assert forced == {"exp-checkout": 1}  # the caller's mapping is left alone
    assert exposures(events) == []


def test_variation_without_meta_is_named_by_index(events):
    experiments = experiments_for(events, GrowthBookFlags(lambda: FEATURES))
    names = {render(experiments, f"user-{n}", "no-meta", times=1).name for n in range(12)}
    assert names == {"0", "1"}


def test_attributes_reach_targeting(events):
    flags = GrowthBookFlags(FEATURES)
    assert flags.evaluate("user-1", "checkout", {"plan": "free"}).reason == "force"
    gb = flags.growthbook("user-1", {"plan": "pro"})
    assert gb.get_attributes() == {"plan": "pro", "id": "user-1"}


@pytest.mark.parametrize("option", ["on_experiment_viewed", "defer_tracking", "client_key"])
def test_tracking_options_are_refused(option):
    with pytest.raises(ValueError, match=option):
        GrowthBookFlags(FEATURES, **{option: True})


def test_what_growthbook_does_without_the_adapter():
    """The SDK's own callback fires at evaluation, once per instance: per request."""
    viewed: list[str] = []

    def on_viewed(*, experiment: Any, result: Any, user_context: Any) -> None:
        viewed.append(result.key)

    user = split_users(GrowthBookFlags(FEATURES))[0][0]
    for _ in range(3):  # three requests, never rendered
        gb = GrowthBook(attributes={"id": user}, features=FEATURES, on_experiment_viewed=on_viewed)
        gb.eval_feature("checkout")
    assert len(viewed) == 3
