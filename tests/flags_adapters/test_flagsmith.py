"""Flagsmith: the real SDK in offline mode on a local environment document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flagsmith import Flagsmith
from flagsmith.offline_handlers import LocalFileHandler
from mixtrack_flags.flagsmith import FlagsmithFlags

from ._support import assert_exposed_once, experiments_for, exposures, render


def option(n: int, key: str, value: str, percent: float) -> dict[str, Any]:
    return {
        "id": n,
        "percentage_allocation": percent,
        "multivariate_feature_option": {"id": n, "key": key, "value": value},
    }


def feature_state(n: int, name: str, value: Any, enabled: bool = True, options=()) -> dict:
    return {
        "django_id": n,
        "featurestate_uuid": f"8a6f4d02-5a16-4f0e-9d0a-1b2c3d4e5f6{n}",
        "enabled": enabled,
        "feature_state_value": value,
        "feature": {"id": n, "name": name, "type": "MULTIVARIATE" if options else "STANDARD"},
        "multivariate_feature_state_values": list(options),
    }


ENVIRONMENT = {
    "api_key": "ser.local",
    "id": 1,
    "name": "test",
    "project": {"id": 1, "name": "p", "organisation": {"id": 1, "name": "o"}, "segments": []},
    "identity_overrides": [],
    "feature_states": [
        # 40% control, 40% treatment, 20% left with the flag's own value (outside the split)
        feature_state(1, "checkout", "blue", options=[
            option(1, "control", "blue", 40), option(2, "Treatment B", "green", 40)]),
        feature_state(2, "retired", "x", enabled=False),
        feature_state(3, "banner", "on"),
    ],
}  # fmt: skip


@pytest.fixture
def flagsmith(tmp_path: Path) -> Flagsmith:
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(ENVIRONMENT))
    return Flagsmith(offline_mode=True, offline_handler=LocalFileHandler(str(path)))


def split(flags: FlagsmithFlags) -> tuple[list[str], list[str]]:
    inside, outside = [], []
    for n in range(40):
        user = f"user-{n}"
        (inside if flags.evaluate(user, "checkout", {}).in_experiment else outside).append(user)
    return inside, outside


def test_evaluation_sends_nothing(events, flagsmith):
    experiments = experiments_for(events, FlagsmithFlags(flagsmith))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout", {"plan": "pro"})
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events, flagsmith):
    flags = FlagsmithFlags(flagsmith)
    inside, outside = split(flags)
    assert inside and outside
    experiments = experiments_for(events, flags)
    shown = {user: render(experiments, user, "checkout", times=3) for user in inside[:8]}
    assert {v.name for v in shown.values()} == {"control", "Treatment B"}
    assert len(exposures(events)) == 8
    user = inside[0]
    variant = shown[user]
    assert variant.value == {"control": "blue", "Treatment B": "green"}[variant.name or ""]
    assert_exposed_once(events, user, "checkout", variant.name or "", "flagsmith", **{
        "Flagsmith reason": "SPLIT; weight=40", "Feature id": 1})  # fmt: skip


def test_identities_outside_the_split_are_shown_but_not_exposed(events, flagsmith):
    flags = FlagsmithFlags(flagsmith)
    _, outside = split(flags)
    variant = experiments_for(events, flags).variant(outside[0], "checkout")
    assert variant.value == "blue" and variant.reason == "STATIC"
    assert not variant.in_experiment and variant.expose() is False
    assert exposures(events) == []


def test_disabled_standard_and_unknown_flags_are_not_in_experiment(events, flagsmith):
    experiments = experiments_for(events, FlagsmithFlags(flagsmith))
    found = [experiments.variant("user-1", key) for key in ("retired", "banner", "nope")]
    assert [v.name for v in found] == [None, None, None]
    assert [v.reason for v in found] == ["disabled", "STATIC", "unknown feature"]
    assert found[1].value == "on"
    assert not any(v.expose() for v in found)
    assert exposures(events) == []
