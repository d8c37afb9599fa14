"""OpenFeature: the real SDK with its InMemoryProvider; hooks run, exposure waits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mixtrack_flags.openfeature import OpenFeatureFlags
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagEvaluationDetails, FlagResolutionDetails, Reason
from openfeature.hook import Hook, HookContext, HookHints
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from ._support import (
    assert_exposed_once,
    experiments_for,
    exposures,
    render,
)

TREATED = {"u2", "u4"}
EXCLUDED = {"u9"}


def by_user(flag: InMemoryFlag, context: EvaluationContext) -> FlagResolutionDetails[Any]:
    key = context.targeting_key
    if key in EXCLUDED:
        return FlagResolutionDetails("blue", reason=Reason.DISABLED)
    variant = "Treatment B" if key in TREATED else "control"
    return FlagResolutionDetails(
        flag.variants[variant],
        variant=variant,
        reason=Reason.SPLIT,
        flag_metadata=flag.flag_metadata,
    )


class CountingHook(Hook):
    def __init__(self) -> None:
        self.after_calls: list[tuple[str, str | None]] = []

    def after(
        self, hook_context: HookContext, details: FlagEvaluationDetails[Any], hints: HookHints
    ) -> None:
        self.after_calls.append((details.flag_key, details.variant))


@pytest.fixture
def hook() -> Iterator[CountingHook]:
    hook = CountingHook()
    flags = {
        "checkout": InMemoryFlag(
            "control",
            {"control": "blue", "Treatment B": "green"},
            flag_metadata={"$experiment_id": "exp-1"},
            context_evaluator=by_user,
        ),
        "banner": InMemoryFlag("on", {"on": True, "off": False}),
    }
    api.set_provider(InMemoryProvider(flags), domain="mixtrack-tests")
    api.add_hooks([hook])
    yield hook
    api.clear_hooks()
    api.clear_providers()


@pytest.fixture
def flags(hook: CountingHook) -> OpenFeatureFlags:
    return OpenFeatureFlags(api.get_client("mixtrack-tests"))


def test_evaluation_sends_nothing(events, flags, hook):
    experiments = experiments_for(events, flags)
    for user in ("u1", "u2", "u9"):
        experiments.variant(user, "checkout")
    assert len(hook.after_calls) == 3  # hooks see every evaluation...
    assert exposures(events) == []  # ...and nothing is exposed


def test_render_exposes_once_with_names_unchanged(events, flags, hook):
    experiments = experiments_for(events, flags)
    for user in ("u1", "u2"):
        render(experiments, user, "checkout", times=3)
    assert_exposed_once(events, "u1", "checkout", "control", "openfeature", **{
        "$experiment_id": "exp-1", "OpenFeature reason": "SPLIT"})  # fmt: skip
    assert_exposed_once(events, "u2", "checkout", "Treatment B", "openfeature")
    assert len(exposures(events)) == 2
    assert len(hook.after_calls) == 8  # one evaluation each render: hooks are no exposure


def test_variant_reads_like_the_provider(events, flags):
    variant = experiments_for(events, flags).variant("u4", "checkout", {"plan": "pro"})
    assert variant == "Treatment B"
    assert variant.value == "green"
    assert variant.in_experiment


def test_excluded_user_is_never_exposed(events, flags):
    experiments = experiments_for(events, flags)
    variant = experiments.variant("u9", "checkout")
    assert variant.name is None and str(variant) == ""
    assert variant.value == "blue"
    assert variant.expose() is False
    assert exposures(events) == []


def test_unknown_flag_is_not_in_experiment(events, flags):
    variant = experiments_for(events, flags).variant("u1", "no-such-flag")
    assert variant.name is None
    assert variant.reason.startswith("error")
    assert variant.expose() is False
    assert exposures(events) == []


def test_boolean_flags(events, hook):
    flags = OpenFeatureFlags(api.get_client("mixtrack-tests"), kind="boolean")
    variant = render(experiments_for(events, flags), "u1", "banner")
    assert variant == "on" and bool(variant)
    assert_exposed_once(events, "u1", "banner", "on", "openfeature")


def test_disabled_reason_is_shown_but_not_exposed(events, hook):
    flags = OpenFeatureFlags(api.get_client("mixtrack-tests"), excluded_reasons={"SPLIT"})
    variant = experiments_for(events, flags).variant("u1", "checkout")
    assert variant == "control" and not variant.in_experiment
    assert variant.expose() is False
    assert exposures(events) == []


def test_bad_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        OpenFeatureFlags(api.get_client(), kind="text")  # type: ignore[arg-type]
