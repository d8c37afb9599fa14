"""StaticFlags: weights, sticky bucketing, targeting, overrides, holdout, files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mixtrack.errors import ConfigError
from mixtrack.flags import Assignment, FlagProvider, StaticFlags
from mixtrack.flags._rules import bucket, choose

USERS = [f"user-{n}" for n in range(10_000)]


def test_static_flags_is_a_flag_provider() -> None:
    flags = StaticFlags({"checkout_redesign": {"control": 50, "treatment": 50}})
    assert isinstance(flags, FlagProvider)
    assert flags.name == "static"
    assert flags.experiments == ("checkout_redesign",)
    assert flags.variants("checkout_redesign") == ("control", "treatment")


def test_weights_split_users_in_proportion() -> None:
    flags = StaticFlags({"layout": {"list": 20, "grid": 30, "cards": 50}})
    counts = Counter(flags.evaluate(user, "layout", {}).variant for user in USERS)
    assert set(counts) == {"list", "grid", "cards"}
    # 10,000 users: each share within 2.5 points of its weight (well over 4 sigma).
    assert abs(counts["list"] / len(USERS) - 0.20) < 0.025
    assert abs(counts["grid"] / len(USERS) - 0.30) < 0.025
    assert abs(counts["cards"] / len(USERS) - 0.50) < 0.025


def test_bucketing_is_sticky_across_instances_and_processes() -> None:
    spec = {"checkout_redesign": {"control": 50, "treatment": 50}}
    here = [StaticFlags(spec).evaluate(u, "checkout_redesign", {}).variant for u in USERS[:200]]
    again = [StaticFlags(spec).evaluate(u, "checkout_redesign", {}).variant for u in USERS[:200]]
    assert here == again
    # A fresh interpreter with a different hash seed must agree: no use of hash().
    code = (
        "import json, sys\n"
        "from mixtrack.flags import StaticFlags\n"
        f"flags = StaticFlags({spec!r})\n"
        "print(json.dumps([flags.evaluate(f'user-{n}', 'checkout_redesign', {}).variant"
        " for n in range(200)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        timeout=60,
    ).stdout
    assert json.loads(out) == here


def test_experiments_bucket_independently() -> None:
    flags = StaticFlags({"a": {"x": 50, "y": 50}, "b": {"x": 50, "y": 50}})
    pairs = Counter(
        (flags.evaluate(u, "a", {}).variant, flags.evaluate(u, "b", {}).variant) for u in USERS
    )
    # Independent hashing: all four combinations, each about a quarter.
    assert all(abs(n / len(USERS) - 0.25) < 0.03 for n in pairs.values())
    assert len(pairs) == 4


def test_changing_the_salt_reshuffles() -> None:
    base = StaticFlags({"e": {"x": 50, "y": 50}})
    salted = StaticFlags({"e": {"variants": {"x": 50, "y": 50}, "salt": "round-2"}})
    moved = sum(
        base.evaluate(u, "e", {}).variant != salted.evaluate(u, "e", {}).variant
        for u in USERS[:2000]
    )
    assert 800 < moved < 1200


def test_unknown_experiment_is_not_in_experiment() -> None:
    assignment = StaticFlags({}).evaluate("user-1", "nope", {})
    assert assignment == Assignment(None, reason="unknown experiment")
    assert not assignment.in_experiment


def test_targeting_short_form() -> None:
    flags = StaticFlags(
        {"e": {"variants": {"on": 1}, "targeting": {"plan": ["pro", "team"], "country": "DE"}}}
    )
    assert flags.evaluate("u", "e", {"plan": "pro", "country": "DE"}).variant == "on"
    assert flags.evaluate("u", "e", {"plan": "free", "country": "DE"}).reason == "targeting"
    assert flags.evaluate("u", "e", {"plan": "pro"}).variant is None
    assert flags.evaluate("u", "e", {}).in_experiment is False


@pytest.mark.parametrize(
    ("rule", "attributes", "matches"),
    [
        ({"attribute": "age", "gte": 18}, {"age": 18}, True),
        ({"attribute": "age", "gte": 18}, {"age": 17}, False),
        ({"attribute": "age", "gt": 18}, {"age": "old"}, False),
        ({"attribute": "age", "lt": 18}, {"age": 10}, True),
        ({"attribute": "age", "lte": 18}, {}, False),
        ({"attribute": "beta", "exists": True}, {"beta": None}, True),
        ({"attribute": "beta", "exists": False}, {}, True),
        ({"attribute": "plan", "equals": "pro"}, {"plan": "pro"}, True),
        ({"attribute": "plan", "not_equals": "pro"}, {}, True),
        ({"attribute": "plan", "in": ["a", "b"]}, {"plan": "b"}, True),
        ({"attribute": "plan", "not_in": ["a", "b"]}, {"plan": "b"}, False),
        ({"attribute": "plan", "not_in": ["a", "b"]}, {}, True),
    ],
)
def test_targeting_long_form(
    rule: dict[str, object], attributes: dict[str, object], matches: bool
) -> None:
    flags = StaticFlags({"e": {"variants": ["on"], "targeting": [rule]}})
    assert (flags.evaluate("u", "e", attributes).variant == "on") is matches


def test_overrides_force_a_variant_and_mark_qa() -> None:
    flags = StaticFlags(
        {
            "e": {
                "variants": {"control": 100, "treatment": 0},
                "targeting": {"plan": "pro"},
                "overrides": {"qa-alice": "treatment"},
                "id": "exp-1",
            }
        }
    )
    forced = flags.evaluate("qa-alice", "e", {})
    assert forced.variant == "treatment"
    assert forced.reason == "override"
    assert forced.in_experiment
    assert forced.metadata == {"$experiment_id": "exp-1", "$is_qa_tester": True}
    assert flags.evaluate("user-1", "e", {"plan": "pro"}).variant == "control"


def test_holdout_excludes_about_its_share_and_does_not_skew_the_split() -> None:
    flags = StaticFlags({"e": {"variants": {"x": 50, "y": 50}, "holdout": 20}})
    results = [flags.evaluate(u, "e", {}) for u in USERS]
    held = [r for r in results if r.variant is None]
    assert all(r.reason == "holdout" and not r.in_experiment for r in held)
    assert abs(len(held) / len(USERS) - 0.20) < 0.025
    split = Counter(r.variant for r in results if r.variant)
    assert abs(split["x"] / sum(split.values()) - 0.5) < 0.03


def test_disabled_experiment_serves_nobody_but_overrides() -> None:
    flags = StaticFlags({"e": {"variants": ["on"], "enabled": False, "overrides": {"qa": "on"}}})
    assert flags.evaluate("user-1", "e", {}).reason == "disabled"
    assert flags.evaluate("qa", "e", {}).variant == "on"


def test_bucket_by_an_attribute() -> None:
    flags = StaticFlags({"e": {"variants": {"x": 50, "y": 50}, "bucket_by": "company_id"}})
    same_company = {flags.evaluate(u, "e", {"company_id": 7}).variant for u in USERS[:50]}
    assert len(same_company) == 1
    missing = flags.evaluate("user-1", "e", {})
    assert missing.variant is None
    assert "company_id" in missing.reason


def test_values_and_boolean_names() -> None:
    flags = StaticFlags(
        {
            "nav": {"on": 100, "off": 0},
            "colour": {"variants": {"blue": {"weight": 1, "value": "#00f"}}},
            "plain": {"a": 1},
        }
    )
    assert flags.evaluate("u", "nav", {}).value is True
    assert flags.evaluate("u", "colour", {}).value == "#00f"
    assert flags.evaluate("u", "plain", {}).value is None


def test_rollout_outside_experiment_is_shown_but_not_in_experiment() -> None:
    flags = StaticFlags({"e": {"variants": ["on"], "in_experiment": False}})
    assignment = flags.evaluate("u", "e", {})
    assert assignment.variant == "on"
    assert not assignment.in_experiment


def test_type_and_id_become_metadata() -> None:
    flags = StaticFlags({"e": {"variants": ["on"], "type": "feature_flag", "id": 12}})
    assert flags.evaluate("u", "e", {}).metadata == {
        "$experiment_type": "feature_flag",
        "$experiment_id": 12,
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"e": {"control": -1, "treatment": 1}}, "weight of variant 'control'"),
        ({"e": {"control": 0}}, "at least one variant"),
        ({"e": {"color": "blue"}}, "needs 'variants'"),
        ({"e": {"variants": ["a"], "holdout": 150}}, "holdout"),
        ({"e": {"variants": ["a"], "overrides": {"qa": "b"}}}, "overrides"),
        ({"e": {"variants": ["a"], "targeting": [{"attribute": "x", "like": 1}]}}, "operator"),
        ({"e": {"variants": ["a"], "colour": 1}}, "unknown keys"),
        ({"e": "a"}, "must be a mapping"),
    ],
)
def test_bad_definitions_say_what_is_wrong(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StaticFlags(spec)


def test_reads_json_and_yaml_files(tmp_path: Path) -> None:
    spec = {"e": {"variants": {"x": 50, "y": 50}, "overrides": {"qa": "y"}}}
    json_file = tmp_path / "flags.json"
    json_file.write_text(json.dumps(spec))
    yaml_file = tmp_path / "flags.yaml"
    yaml_file.write_text("e:\n  variants: {x: 50, y: 50}\n  overrides:\n    qa: y\n")
    from_json = StaticFlags(json_file)
    from_yaml = StaticFlags.from_file(str(yaml_file))
    for user in USERS[:100]:
        assert from_json.evaluate(user, "e", {}) == from_yaml.evaluate(user, "e", {})
    assert from_yaml.evaluate("qa", "e", {}).variant == "y"


def test_yaml_without_pyyaml_says_how_to_fix(tmp_path: Path) -> None:
    yaml_file = tmp_path / "flags.yaml"
    yaml_file.write_text("e: {on: 1}\n")
    code = (
        "import sys\n"
        "sys.modules['yaml'] = None  # as if PyYAML were not installed\n"
        "from mixtrack.errors import ConfigError\n"
        "from mixtrack.flags import StaticFlags\n"
        "try:\n"
        f"    StaticFlags({str(yaml_file)!r})\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "needs PyYAML: pip install pyyaml" in out


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        StaticFlags(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        StaticFlags(broken)
    toml = tmp_path / "flags.toml"
    toml.write_text("")
    with pytest.raises(ConfigError, match=r"\.json, \.yaml or \.yml"):
        StaticFlags(toml)


def test_bucket_and_choose() -> None:
    assert 0 <= bucket("a", "b") < 1
    assert bucket("a", "b") != bucket("ab", "")  # parts are separated, not concatenated
    assert choose([("x", 1), ("y", 0), ("z", 1)], 0.0) == "x"
    assert choose([("x", 1), ("y", 0), ("z", 1)], 0.5) == "z"
    assert choose([("x", 1), ("y", 0)], 0.999999999) == "x"
