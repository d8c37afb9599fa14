"""LaunchDarkly: the real SDK on its file data source; evaluation events stay with the SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldclient
import pytest
from ldclient.config import Config
from ldclient.hook import EvaluationSeriesContext, Hook, Metadata
from ldclient.integrations import Files
from mixtrack_flags.launchdarkly import LaunchDarklyFlags, variation_names_from_flags

from ._support import LocalServer, assert_exposed_once, experiments_for, exposures, render

# An experiment on the fallthrough: 40% control, 40% treatment, 20% served control but
# left out of the experiment; a QA target and a rule for the free plan are outside it.
EXPERIMENT = {
    "kind": "experiment",
    "seed": 61,
    "variations": [
        {"variation": 0, "weight": 40000},
        {"variation": 1, "weight": 40000},
        {"variation": 0, "weight": 20000, "untracked": True},
    ],
}
FLAGS = {
    "checkout": {
        "key": "checkout",
        "version": 1,
        "on": True,
        "salt": "checkout-salt",
        "variations": ["control", "treatment"],
        "offVariation": 0,
        "targets": [{"values": ["qa-1"], "variation": 1}],
        "rules": [
            {
                "id": "free-plan",
                "clauses": [{"attribute": "plan", "op": "in", "values": ["free"]}],
                "variation": 0,
            }
        ],
        "fallthrough": {"rollout": EXPERIMENT},
    },
    "layout": {
        "key": "layout",
        "version": 1,
        "on": True,
        "salt": "layout-salt",
        "variations": [{"columns": 2}, {"columns": 3}],
        "offVariation": 0,
        "fallthrough": {"rollout": {**EXPERIMENT, "variations": EXPERIMENT["variations"][:2]}},
    },
    "retired": {
        "key": "retired",
        "version": 1,
        "on": False,
        "salt": "r",
        "variations": ["control", "treatment"],
        "offVariation": 0,
        "fallthrough": {"variation": 1},
    },
}
# Names as LaunchDarkly's REST API describes the flag: the SDK data has values only.
LAYOUT_DESCRIPTION = {
    "key": "layout",
    "variations": [{"value": {"columns": 2}, "name": "Two columns"}, {"value": {"columns": 3}}],
}


class EvaluationSpy(Hook):
    """LaunchDarkly hooks run on every evaluation (not a place for exposure)."""

    def __init__(self) -> None:
        self.evaluations: list[str] = []

    @property
    def metadata(self) -> Metadata:
        return Metadata(name="evaluation-spy")

    def before_evaluation(self, series_context: EvaluationSeriesContext, data: Any) -> Any:
        return data

    def after_evaluation(
        self, series_context: EvaluationSeriesContext, data: Any, detail: Any
    ) -> Any:
        self.evaluations.append(series_context.context.key)
        return data


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": FLAGS}))
    return path


def start(flag_file: Path, **config: Any) -> ldclient.LDClient:
    config.setdefault("send_events", False)
    client = ldclient.LDClient(
        Config(
            "sdk-key-local",
            update_processor_class=Files.new_data_source(paths=[str(flag_file)]),
            diagnostic_opt_out=True,
            **config,
        ),
        start_wait=5,
    )
    assert client.is_initialized()
    return client


@pytest.fixture
def spy() -> EvaluationSpy:
    return EvaluationSpy()


@pytest.fixture
def ld(flag_file: Path, spy: EvaluationSpy) -> Iterator[ldclient.LDClient]:
    client = start(flag_file, hooks=[spy])
    yield client
    client.close()


def users_by_reason(flags: LaunchDarklyFlags) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {"in": [], "out": []}
    for n in range(40):
        a = flags.evaluate(f"user-{n}", "checkout", {})
        found["in" if a.in_experiment else "out"].append((f"user-{n}", a.variant or ""))
    return found


def test_evaluation_sends_nothing(events, ld, spy):
    experiments = experiments_for(events, LaunchDarklyFlags(ld))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout")
    assert len(spy.evaluations) == 10
    assert exposures(events) == []


def test_experiment_users_are_exposed_once(events, ld):
    flags = LaunchDarklyFlags(ld)
    found = users_by_reason(flags)
    assert found["in"] and found["out"]  # the 20% untracked slice exists
    experiments = experiments_for(events, flags)
    for user, variant in found["in"][:6]:
        assert render(experiments, user, "checkout", times=3) == variant
    assert len(exposures(events)) == 6
    user, variant = found["in"][0]
    assert_exposed_once(events, user, "checkout", variant, "launchdarkly", **{
        "LaunchDarkly reason": "FALLTHROUGH",
        "Variation index": 0 if variant == "control" else 1,
    })  # fmt: skip
    assert {v for _, v in found["in"]} == {"control", "treatment"}


def test_untracked_slice_is_served_but_not_exposed(events, ld):
    flags = LaunchDarklyFlags(ld)
    user, variant = users_by_reason(flags)["out"][0]
    shown = experiments_for(events, flags).variant(user, "checkout")
    assert shown == variant == "control"
    assert not shown.in_experiment
    assert shown.expose() is False
    assert exposures(events) == []


def test_targets_rules_and_off_flags_are_outside_the_experiment(events, ld):
    experiments = experiments_for(events, LaunchDarklyFlags(ld))
    qa = experiments.variant("qa-1", "checkout")
    free = experiments.variant("user-1", "checkout", {"plan": "free"})
    off = experiments.variant("user-1", "retired")
    assert (qa.name, qa.reason) == ("treatment", "target_match")
    assert (free.name, free.reason, free.metadata["Rule id"]) == (
        "control",
        "rule_match",
        "free-plan",
    )
    assert (off.name, off.reason) == ("control", "off")
    assert [qa.expose(), free.expose(), off.expose()] == [False, False, False]
    assert exposures(events) == []


def test_unknown_flag_is_not_in_experiment(events, ld):
    variant = experiments_for(events, LaunchDarklyFlags(ld)).variant("user-1", "nope")
    assert variant.name is None
    assert variant.reason == "flag_not_found"
    assert variant.expose() is False


def test_variation_names_for_json_variations(events, ld):
    names = variation_names_from_flags([LAYOUT_DESCRIPTION])
    assert names == {"layout": ["Two columns", "1"]}
    experiments = experiments_for(events, LaunchDarklyFlags(ld, variation_names=names))
    seen = {render(experiments, f"user-{n}", "layout", times=2).name for n in range(12)}
    assert seen == {"Two columns", "1"}
    assert len(exposures(events)) == 12
    by_index = LaunchDarklyFlags(ld, variation_names={"layout": {1: "Three columns"}})
    assert {by_index.evaluate(f"user-{n}", "layout", {}).variant for n in range(12)} == {
        "0",
        "Three columns",
    }


def test_with_events_on_launchdarkly_counts_evaluations_not_renders(events, flag_file):
    """What the docs say: LaunchDarkly's own events follow evaluations; mixtrack's, renders."""
    with LocalServer({"/bulk": (202, b"")}) as collector:
        ld = start(flag_file, send_events=True, events_uri=collector.url, flush_interval=60)
        try:
            flags = LaunchDarklyFlags(ld)
            user, _variant = users_by_reason(flags)["in"][0]
            experiments = experiments_for(events, flags)
            for _ in range(3):
                experiments.variant(user, "checkout")  # evaluated three times, never shown
            ld.flush()
            assert collector.wait_for(lambda requests: any(r["path"] == "/bulk" for r in requests))
        finally:
            ld.close()
    sent = [event for batch in collector.posted_json("/bulk") for event in batch]
    features = [e for e in sent if e["kind"] == "feature" and e["context"]["key"] == user]
    # one full feature event per evaluation (inExperiment): the search above, then three
    assert len(features) == 1 + 3
    assert exposures(events) == []  # and no mixtrack exposure: nothing was shown
