"""One Statsig experiment, as both Statsig SDKs read it: 'checkout_exp', split by user
bucket into control (blue) and treatment (green), with 'plan: free' users left out."""

from __future__ import annotations

from typing import Any


def _bucket(operator: str) -> dict[str, Any]:
    return {
        "type": "user_bucket",
        "operator": operator,
        "targetValue": 500,
        "idType": "userID",
        "additionalValues": {"salt": "s1"},
    }


FREE_PLAN = {"type": "user_field", "operator": "any", "field": "plan", "targetValue": ["free"],
             "idType": "userID"}  # fmt: skip


def _rule(rule_id: str, group: str, condition: dict[str, Any], value: dict[str, Any]) -> dict:
    return {
        "name": rule_id,
        "id": rule_id,
        "groupName": group,
        "isExperimentGroup": True,
        "passPercentage": 100,
        "idType": "userID",
        "salt": rule_id,
        "conditions": [condition],
        "returnValue": value,
    }


def experiment(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """The experiment spec; ``conditions`` are condition objects or, for the v2 format,
    keys into a condition map, in the order [free plan, lower half, upper half]."""
    free, low, high = conditions
    return {
        "name": "checkout_exp",
        "type": "dynamic_config",
        "entity": "experiment",
        "salt": "s1",
        "enabled": True,
        "idType": "userID",
        "defaultValue": {"color": "grey"},
        "rules": [
            {**_rule("free", "", free, {"color": "grey"}), "isExperimentGroup": False,
             "groupName": None},
            _rule("g0", "control", low, {"color": "blue"}),
            _rule("g1", "Treatment B", high, {"color": "green"}),
        ],
    }  # fmt: skip


def core_specs() -> dict[str, Any]:
    """The v2 'download config specs' document of statsig-python-core."""
    exp = experiment(["free", "lt", "gte"])  # type: ignore[list-item]
    return {
        "time": 1,
        "has_updates": True,
        "experiment_to_layer": {},
        "condition_map": {"free": FREE_PLAN, "lt": _bucket("lt"), "gte": _bucket("gte")},
        "feature_gates": {},
        "layer_configs": {},
        "dynamic_configs": {"checkout_exp": exp},
    }


def legacy_specs() -> dict[str, Any]:
    """The v1 document of the legacy statsig SDK (conditions inline, lists not maps)."""
    exp = experiment([FREE_PLAN, _bucket("lt"), _bucket("gte")])
    return {"time": 1, "feature_gates": [], "dynamic_configs": [exp], "layer_configs": []}
