"""The readout on generated launches: counts as defined, numbers equal to scipy's."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from mixtrack.audit import PEEKING_WARNING, audit, readout, render_report
from tests.audit._streams import EXPERIMENT, Stream

TOL = 1e-9


def generated(seed: int, users: int = 3000) -> tuple[Stream, dict[str, dict[str, list[float]]]]:
    """A launch where ``list`` converts a bit better; also the truth per variant and user."""
    rng = random.Random(seed)
    stream = Stream()
    truth: dict[str, dict[str, list[float]]] = {
        v: {"converted": [], "revenue": []} for v in ("grid", "list")
    }
    for i in range(users):
        user = f"user-{i}"
        variant = "grid" if rng.random() < 0.5 else "list"
        if rng.random() < 0.3:
            # Bought before seeing the experiment: must not count.
            stream.add("Order completed", user, revenue=99.0)
        stream.expose(user, variant)
        rate = 0.10 if variant == "grid" else 0.125
        revenue = 0.0
        orders = 0
        while rng.random() < (rate if orders == 0 else 0.3):
            amount = round(rng.uniform(5, 80), 2)
            stream.add("Order completed", user, revenue=amount)
            revenue += amount
            orders += 1
        stream.add("Page viewed", user)
        truth[variant]["converted"].append(1.0 if orders else 0.0)
        truth[variant]["revenue"].append(revenue)
    return stream, truth


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_readout_equals_scipy(seed: int) -> None:
    stream, truth = generated(seed)
    result = readout(stream.events, "Order completed", value_property="revenue")
    assert result.experiment == EXPERIMENT and result.control == "grid"
    assert [v.variant for v in result.variants] == ["grid", "list"]
    control, treatment = result.variants
    assert control.versus_control is None
    revenue = result.metric_result("Order completed:sum(revenue)")
    for v in result.variants:
        assert v.users == len(truth[v.variant]["converted"])
        assert v.converted == sum(truth[v.variant]["converted"])
        assert abs(v.rate - float(np.mean(truth[v.variant]["converted"]))) < TOL
        mean = revenue.variant(v.variant).mean
        assert abs(mean - float(np.mean(truth[v.variant]["revenue"]))) < TOL
    c = treatment.versus_control
    assert c is not None
    x1, n1, x2, n2 = treatment.converted, treatment.users, control.converted, control.users
    p1, p2 = x1 / n1, x2 / n2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    assert abs(c.p_value - 2 * stats.norm.sf(abs(p1 - p2) / se)) < TOL
    low, high = stats.norm.interval(0.95, loc=p1 - p2, scale=se)
    assert abs(c.ci_low - low) < TOL and abs(c.ci_high - high) < TOL
    assert c.relative_lift is not None and abs(c.relative_lift - (p1 - p2) / p2) < TOL
    welch = stats.ttest_ind(truth["list"]["revenue"], truth["grid"]["revenue"], equal_var=False)
    value = revenue.variant("list").versus_control
    assert value is not None
    assert abs(value.fixed.statistic - welch.statistic) < TOL
    assert abs(value.p_value - welch.pvalue) < TOL
    interval = welch.confidence_interval(0.95)
    assert abs(value.ci_low - interval.low) < TOL and abs(value.ci_high - interval.high) < TOL
    assert c.always_valid_p is not None and 0.0 < c.always_valid_p <= 1.0


def test_conversions_join_ids_of_one_person() -> None:
    stream = Stream()
    stream.expose("$device:1", "control").add("Page viewed", "$device:1")
    stream.identify("user-1", "$device:1")
    stream.add("Order completed", "user-1", revenue=20)
    stream.expose("user-2", "treatment").add("Order completed", "user-2", revenue="oops")
    result = readout(stream.events, "Order completed", value_property="revenue")
    assert result.control == "control"
    assert result.variant("control").converted == 1
    revenue = result.metric_result("Order completed:sum(revenue)")
    assert revenue.variant("control").mean == 20.0
    assert revenue.variant("treatment").mean == 0.0  # a non-number counts as nothing


def test_choosing_experiment_and_control() -> None:
    stream = Stream()
    stream.expose("u1", "a").expose("u2", "b").expose("u3", "on", experiment="new_nav")
    with pytest.raises(ValueError, match="choose an experiment"):
        readout(stream.events, "Order completed")
    result = readout(stream.events, "Order completed", experiment=EXPERIMENT, control="b")
    assert [v.variant for v in result.variants] == ["b", "a"]
    with pytest.raises(ValueError, match="no exposures"):
        readout(stream.events, "Order completed", experiment="missing")
    with pytest.raises(ValueError, match="control variant 'zzz'"):
        readout(stream.events, "Order completed", experiment=EXPERIMENT, control="zzz")


def test_report_text_has_the_table_and_the_peeking_warning() -> None:
    stream, _ = generated(21, users=600)
    result = readout(stream.events, "Order completed", value_property="revenue")
    text = render_report(audit(stream.events, weights={"grid": 50, "list": 50}), result)
    assert "Experiment audit" in text and "No problems found." in text
    assert "Readout of 'pricing_page_layout'" in text and "always-valid p" in text
    assert "Order completed:sum(revenue) (secondary): total revenue per user" in text
    assert "lift (pp)" in text and "rel. lift %" in text and "95% CI (rel. %)" in text
    assert PEEKING_WARNING in " ".join(text.split())
    assert "peeking" in result.as_json()["warning"]


def test_always_valid_p_waits_for_enough_users() -> None:
    stream, _ = generated(31, users=120)
    result = readout(stream.events, "Order completed")
    comparison = result.variants[1].versus_control
    assert comparison is not None and comparison.always_valid_p is None
    assert "starts once each variant has 100 users" in render_report(audit([]), result)
    lower = readout(stream.events, "Order completed", min_users=20)
    later = lower.variants[1].versus_control
    assert later is not None and later.always_valid_p is not None


def test_a_switch_splits_the_person_and_the_window_ends_attribution() -> None:
    stream = Stream()
    stream.expose("u1", "control").add("Paid", "u1")
    stream.expose("u1", "treatment").add("Paid", "u1").add("Paid", "u1")
    stream.expose("u2", "control")
    stream.clock += 91 * 86400  # past the 90-day window
    stream.add("Paid", "u2")
    result = readout(stream.events, "Paid:count")
    control, treatment = result.variants
    assert (control.users, control.total) == (2, 1.0)  # u1 before the switch; u2 too late
    assert (treatment.users, treatment.total) == (1, 2.0)  # u1 after it
    longer = readout(stream.events, "Paid:count", window=92 * 86400.0)
    assert longer.variant("control").total == 2.0


def test_an_event_in_the_second_of_an_exposure_counts_after_it() -> None:
    stream = Stream()
    stream.add("Paid", "u1")
    stream.clock -= 1.0  # the exposure carries the same second, but arrives later
    stream.expose("u1", "control")
    stream.expose("u2", "treatment")
    assert readout(stream.events, "Paid").variant("control").converted == 1


def test_aa_at_an_uneven_split_and_low_rate_is_not_a_winner() -> None:
    rng = random.Random(41)
    stream = Stream()
    for i in range(20_000):
        user = f"u{i}"
        stream.expose(user, "control" if rng.random() < 0.9 else "treatment")
        if rng.random() < 0.01:
            stream.add("Paid", user)
    result = readout(stream.events, "Paid")
    c = result.variant("treatment").versus_control
    assert c is not None and c.always_valid_p is not None
    assert c.always_valid_p > 0.05
    assert c.always_valid_low is not None and c.always_valid_low < 0 < (c.always_valid_high or 0)


def test_guardrail_worse_and_winsorized_values() -> None:
    rng = random.Random(5)
    stream = Stream()
    for i in range(4000):
        user, variant = f"u{i}", "ab"[i % 2]
        stream.expose(user, variant)
        if rng.random() < (0.10 if variant == "a" else 0.16):
            stream.add("Refunded", user)
        if rng.random() < 0.2:
            stream.add("Paid", user, revenue=1e6 if i == 1 else rng.uniform(5, 50))
    result = readout(
        stream.events,
        ["Paid", "guardrail:Refunded:lower", "secondary:Paid:sum(revenue):winsor=99"],
        correction="bonferroni",
    )
    assert [m.metric.role for m in result.metrics] == ["primary", "guardrail", "secondary"]
    assert result.corrected_confidence == pytest.approx(1 - 0.05 / 3)
    [(metric, variant)] = result.regressions()
    assert metric.event == "Refunded" and variant.variant == "b"
    revenue = result.metrics[2]
    assert revenue.cap is not None and revenue.cap < 50
    assert max(revenue.variant("b").mean, revenue.variant("a").mean) < 50


def test_events_microseconds_apart_late_in_the_epoch() -> None:
    stream = Stream()
    for i in range(300):
        stream.expose(f"u{i}", "ab"[i % 2])
        stream.events[-1]["properties"]["time"] = 1_764_000_000.0 + i * 1e-7
    result = readout(stream.events, "Paid:count")
    assert result.primary.lift_over_time  # and it ends
