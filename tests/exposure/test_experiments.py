"""Experiments with a recording tracker: lazy variants, exactly-once exposure, identity, scopes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from mixtrack.errors import ValidationError
from mixtrack.exposure import (
    EXPOSURE_EVENT,
    Experiments,
    Exposure,
    MemoryLedger,
    Variant,
    exposure_insert_id,
)
from mixtrack.flags import Assignment, StaticFlags

CHECKOUT = {"checkout_redesign": {"control": 50, "treatment": 50}}


def make(tracker: Any, spec: Mapping[str, Any] = CHECKOUT, **options: Any) -> Experiments:
    return Experiments(tracker, StaticFlags(spec), ledger=MemoryLedger(), **options)


def user_with(experiments: Experiments, experiment: str, variant: str) -> str:
    return next(
        f"user-{n}"
        for n in range(1000)
        if experiments.variant(f"user-{n}", experiment).name == variant
    )


def test_assignment_alone_sends_nothing(tracker: Any) -> None:
    experiments = make(tracker)
    for n in range(100):
        variant = experiments.variant(f"user-{n}", "checkout_redesign")
        _ = (variant.name, str(variant), bool(variant), variant == "treatment", hash(variant))
    assert tracker.calls == []
    assert experiments.stats().variants == 100
    assert experiments.stats().exposed == 0


def test_expose_sends_once_per_user_and_experiment(tracker: Any) -> None:
    experiments = make(tracker)
    first = experiments.variant("user-42", "checkout_redesign")
    assert first.expose() is True
    assert first.expose() is False
    assert experiments.variant("user-42", "checkout_redesign").expose() is False
    assert experiments.variant("user-43", "checkout_redesign").expose() is True
    assert [call["distinct_id"] for call in tracker.calls] == ["user-42", "user-43"]
    stats = experiments.stats()
    assert (stats.exposed, stats.duplicates) == (2, 2)


def test_exposure_event_carries_names_unchanged_and_a_deterministic_insert_id(
    tracker: Any,
) -> None:
    name = "Checkout: redesign (Q3) ✨ für alle"
    experiments = make(tracker, {name: {"variants": {"Grid view ✓": 1}, "id": "exp-9"}})
    experiments.variant("anon 7f3/é", name).expose()
    [call] = tracker.calls
    assert call["event"] == EXPOSURE_EVENT == "$experiment_started"
    assert call["distinct_id"] == "anon 7f3/é"
    assert call["properties"] == {
        "Experiment name": name,
        "Variant name": "Grid view ✓",
        "$experiment_type": "ab_test",
        "Flag provider": "static",
        "$experiment_id": "exp-9",
    }
    assert call["insert_id"] == exposure_insert_id("anon 7f3/é", name)
    assert isinstance(call["time"], float)


def test_insert_id_is_deterministic_and_fits_mixpanel() -> None:
    ids = {exposure_insert_id(f"user-{n}", "e") for n in range(1000)}
    assert len(ids) == 1000
    assert exposure_insert_id("user-1", "e") == exposure_insert_id("user-1", "e")
    assert exposure_insert_id("user-1", "e") != exposure_insert_id("user-1", "f")
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert exposure_insert_id("ab", "c") != exposure_insert_id("a", "bc")
    for insert_id in ids:
        assert len(insert_id) <= 36
        assert all(ch in "0123456789abcdef" for ch in insert_id)


def test_metadata_cannot_replace_the_names_but_may_set_the_type() -> None:
    exposure = Exposure(
        "u",
        "e",
        "on",
        provider="p",
        time=1.0,
        metadata={"Experiment name": "x", "$insert_id": "y", "$experiment_type": "feature_flag"},
    )
    assert exposure.properties() == {
        "Experiment name": "e",
        "Variant name": "on",
        "$experiment_type": "feature_flag",
        "Flag provider": "p",
    }


def test_excluded_users_send_nothing(tracker: Any) -> None:
    experiments = make(
        tracker,
        {
            "targeted": {"variants": ["on"], "targeting": {"plan": "pro"}},
            "held": {"variants": ["on"], "holdout": 100},
            "rollout": {"variants": ["on"], "in_experiment": False},
        },
    )
    free = experiments.variant("user-1", "targeted", {"plan": "free"})
    held = experiments.variant("user-1", "held")
    unknown = experiments.variant("user-1", "nope")
    rollout = experiments.variant("user-1", "rollout")
    assert (free.name, held.name, unknown.name) == (None, None, None)
    assert not free and not held and not unknown
    assert str(free) == ""
    assert free == None  # noqa: E711 - templates compare with None/"" too
    assert rollout.name == "on" and rollout  # shown...
    assert [v.expose() for v in (free, held, unknown, rollout)] == [False] * 4  # ...not exposed
    assert tracker.calls == []
    assert experiments.stats().excluded == 4


def test_variant_reads_like_its_name() -> None:
    def variant(name: str | None, value: Any = None) -> Variant:
        return Variant("e", "u", Assignment(name, value=value), lambda v: False)

    treatment = variant("treatment")
    assert treatment == "treatment" and treatment != "control"
    assert "treatment" == treatment  # noqa: SIM300 - the template order
    assert str(treatment) == "treatment" and f"{treatment}" == "treatment"
    assert hash(treatment) == hash("treatment")
    assert {"treatment": "green"}[treatment] == "green"  # type: ignore[index]
    assert treatment == variant("treatment") and treatment != variant("control")
    assert treatment != 1
    assert treatment.name in ("treatment",)
    assert repr(treatment) == "<Variant e='treatment' for 'u'>"
    assert bool(treatment) and bool(variant("on")) and bool(variant("grid"))
    assert not variant("off") and not variant("control") and not variant("False")
    assert not variant(None)
    assert bool(variant("weird", value=True)) and not variant("on", value=False)


def test_validation_speaks_to_the_user(tracker: Any) -> None:
    experiments = make(tracker)
    with pytest.raises(ValidationError, match="distinct_id must be a non-empty str, got None"):
        experiments.variant(None, "checkout_redesign")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="experiment name"):
        experiments.variant("user-1", "")


def test_identify_keeps_the_variant_and_sends_no_second_exposure(tracker: Any) -> None:
    experiments = make(tracker)
    anon = user_with(experiments, "checkout_redesign", "treatment")
    user = user_with(experiments, "checkout_redesign", "control")  # buckets differently
    assert experiments.variant(anon, "checkout_redesign").expose() is True

    assert experiments.identify(anon, user) is True
    after_login = experiments.variant(user, "checkout_redesign")
    assert after_login == "treatment"  # no flip at login
    assert after_login.reason == "sticky"
    assert after_login.expose() is False
    assert len(tracker.calls) == 1
    # The first anonymous id stays linked.
    assert experiments.identify("anon-other", user) is False
    assert experiments.identify(user, user) is False


def test_identify_before_any_exposure_lets_the_user_be_exposed_once(tracker: Any) -> None:
    experiments = make(tracker)
    experiments.identify("anon-1", "user-1")
    assert experiments.variant("user-1", "checkout_redesign").expose() is True
    assert experiments.variant("user-1", "checkout_redesign").expose() is False
    assert len(tracker.calls) == 1


def test_sticky_variant_survives_new_weights_but_not_a_stopped_experiment(tracker: Any) -> None:
    ledger = MemoryLedger()
    before = Experiments(tracker, StaticFlags(CHECKOUT), ledger=ledger)
    user = user_with(before, "checkout_redesign", "control")
    before.variant(user, "checkout_redesign").expose()

    all_treatment = {"checkout_redesign": {"control": 0, "treatment": 100}}
    after = Experiments(tracker, StaticFlags(all_treatment), ledger=ledger)
    assert after.variant(user, "checkout_redesign") == "control"
    assert after.variant("someone-new", "checkout_redesign") == "treatment"

    stopped = {"checkout_redesign": {"variants": ["control"], "enabled": False}}
    assert (
        Experiments(tracker, StaticFlags(stopped), ledger=ledger)
        .variant(user, "checkout_redesign")
        .name
        is None
    )

    not_sticky = Experiments(tracker, StaticFlags(all_treatment), ledger=ledger, sticky=False)
    assert not_sticky.variant(user, "checkout_redesign") == "treatment"


def test_sticky_variant_keeps_its_value(tracker: Any) -> None:
    ledger = MemoryLedger()
    spec = {"colour": {"variants": {"blue": {"weight": 1, "value": "#00f"}, "red": 0}}}
    Experiments(tracker, StaticFlags(spec), ledger=ledger).variant("u", "colour").expose()
    flipped = {"colour": {"variants": {"blue": 0, "red": {"weight": 1, "value": "#f00"}}}}
    variant = Experiments(tracker, StaticFlags(flipped), ledger=ledger).variant("u", "colour")
    assert (variant.name, variant.value) == ("blue", "#00f")


def test_a_failing_provider_serves_not_in_experiment(tracker: Any) -> None:
    class Broken:
        name = "broken"

        def evaluate(self, distinct_id: str, experiment: str, attributes: Any) -> Assignment:
            raise RuntimeError("flag service unreachable")

    experiments = Experiments(tracker, Broken())
    variant = experiments.variant("user-1", "e")
    assert variant.name is None and variant.reason == "provider error"
    assert variant.expose() is False
    assert experiments.stats().provider_errors == 1
    assert tracker.calls == []


def test_a_refused_send_frees_the_reservation(tracker: Any) -> None:
    class Refusing:
        def __init__(self) -> None:
            self.refuse = True

        def track(self, *args: Any, **kwargs: Any) -> None:
            if self.refuse:
                raise ValidationError("refused")
            tracker.track(*args, **kwargs)

    client = Refusing()
    experiments = Experiments(client, StaticFlags(CHECKOUT))
    assert experiments.variant("user-1", "checkout_redesign").expose() is False
    assert experiments.stats().send_errors == 1
    client.refuse = False
    assert experiments.variant("user-1", "checkout_redesign").expose() is True
    assert len(tracker.calls) == 1


def test_custom_provider_in_a_dozen_lines(tracker: Any) -> None:
    class InHouseFlags:
        name = "inhouse"

        def evaluate(
            self, distinct_id: str, experiment: str, attributes: Mapping[str, Any]
        ) -> Assignment:
            if attributes.get("country") != "DE":
                return Assignment(None, reason="not enrolled")
            return Assignment("b", value=42, metadata={"$experiment_id": 7, "Rule id": "r1"})

    experiments = Experiments(tracker, InHouseFlags(), experiment_type="feature_flag")
    assert experiments.variant("u1", "pricing", {"country": "FR"}).expose() is False
    variant = experiments.variant("u1", "pricing", {"country": "DE"})
    assert (variant.name, variant.value) == ("b", 42)
    assert variant.expose() is True
    assert tracker.calls[0]["properties"] == {
        "Experiment name": "pricing",
        "Variant name": "b",
        "$experiment_type": "feature_flag",
        "Flag provider": "inhouse",
        "$experiment_id": 7,
        "Rule id": "r1",
    }


# -- request scopes ----------------------------------------------------------------------


def test_scope_holds_until_commit(tracker: Any) -> None:
    experiments = make(tracker)
    with experiments.request_scope() as scope:
        assert experiments.variant("user-1", "checkout_redesign").expose() is True
        assert experiments.variant("user-1", "checkout_redesign").expose() is False
        assert tracker.calls == []
        assert [e.distinct_id for e in scope.exposures] == ["user-1"]
        assert scope.commit() == 1
        assert scope.settled
    assert [call["distinct_id"] for call in tracker.calls] == ["user-1"]
    stats = experiments.stats()
    assert (stats.held, stats.exposed, stats.discarded) == (1, 1, 0)


def test_discarded_scope_sends_nothing_and_a_later_commit_does(tracker: Any) -> None:
    experiments = make(tracker)
    with experiments.request_scope() as failed:
        experiments.variant("user-1", "checkout_redesign").expose()
        assert failed.discard() == 1
    assert tracker.calls == []

    with experiments.request_scope() as retried:
        assert experiments.variant("user-1", "checkout_redesign").expose() is True
        retried.commit()
    assert len(tracker.calls) == 1
    assert experiments.stats().discarded == 1


def test_leaving_a_scope_without_commit_discards(tracker: Any) -> None:
    experiments = make(tracker)
    with pytest.raises(ZeroDivisionError), experiments.request_scope():
        experiments.variant("user-1", "checkout_redesign").expose()
        1 / 0  # noqa: B018 - a template that raises
    with experiments.request_scope():
        experiments.variant("user-2", "checkout_redesign").expose()  # a 5xx: no commit
    assert tracker.calls == []
    assert experiments.variant("user-1", "checkout_redesign").expose() is True
    assert len(tracker.calls) == 1


def test_outside_a_scope_and_after_settling_exposures_go_at_once(tracker: Any) -> None:
    experiments = make(tracker)
    with experiments.request_scope() as scope:
        scope.commit()
        assert experiments.variant("user-1", "checkout_redesign").expose() is True
        assert len(tracker.calls) == 1
    assert experiments.variant("user-2", "checkout_redesign").expose() is True
    assert len(tracker.calls) == 2


def test_scopes_follow_asyncio_tasks_and_do_not_leak_between_them(tracker: Any) -> None:
    experiments = make(tracker)

    async def request(user: str, ok: bool) -> None:
        with experiments.request_scope() as scope:
            await asyncio.sleep(0)
            # A task started inside the request copies its context, scope included.
            await asyncio.create_task(expose(user))
            await asyncio.sleep(0)
            if ok:
                scope.commit()

    async def expose(user: str) -> None:
        experiments.variant(user, "checkout_redesign").expose()

    async def main() -> None:
        await asyncio.gather(*(request(f"user-{n}", ok=n % 2 == 0) for n in range(20)))

    asyncio.run(main())
    assert sorted(call["distinct_id"] for call in tracker.calls) == sorted(
        f"user-{n}" for n in range(0, 20, 2)
    )


def test_a_scope_belongs_to_its_experiments(tracker: Any) -> None:
    one, other = make(tracker), make(tracker)
    with one.request_scope():
        assert other.variant("user-1", "checkout_redesign").expose() is True
    assert len(tracker.calls) == 1


def test_a_scope_is_entered_once(tracker: Any) -> None:
    scope = make(tracker).request_scope()
    with scope, pytest.raises(RuntimeError, match="entered only once"), scope:
        pass
