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
    for v in result.variants:
        assert v.users == len(truth[v.variant]["converted"])
        assert v.converted == sum(truth[v.variant]["converted"])
        assert abs(v.rate - float(np.mean(truth[v.variant]["converted"]))) < TOL
        assert v.value_mean is not None
        assert abs(v.value_mean - float(np.mean(truth[v.variant]["revenue"]))) < TOL
    c = treatment.versus_control
    assert c is not None
    x1, n1, x2, n2 = treatment.converted, treatment.users, control.converted, control.users
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    assert abs(c.conversion.p_value - stats.chi2_contingency(table, correction=False).pvalue) < TOL
    p1, p2 = x1 / n1, x2 / n2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    low, high = stats.norm.interval(0.95, loc=p1 - p2, scale=se)
    assert abs(c.conversion.ci_low - low) < TOL and abs(c.conversion.ci_high - high) < TOL
    assert c.relative_lift is not None and abs(c.relative_lift - (p1 - p2) / p2) < TOL
    welch = stats.ttest_ind(truth["list"]["revenue"], truth["grid"]["revenue"], equal_var=False)
    assert c.value is not None
    assert abs(c.value.t - welch.statistic) < TOL and abs(c.value.p_value - welch.pvalue) < TOL
    interval = welch.confidence_interval(0.95)
    assert abs(c.value.ci_low - interval.low) < TOL and abs(c.value.ci_high - interval.high) < TOL
    assert 0.0 < c.always_valid_p <= 1.0


def test_conversions_join_ids_of_one_person() -> None:
    stream = Stream()
    stream.expose("$device:1", "control").add("Page viewed", "$device:1")
    stream.identify("user-1", "$device:1")
    stream.add("Order completed", "user-1", revenue=20)
    stream.expose("user-2", "treatment").add("Order completed", "user-2", revenue="oops")
    result = readout(stream.events, "Order completed", value_property="revenue")
    assert result.control == "control"
    assert result.variant("control").converted == 1
    assert result.variant("control").value_mean == 20.0
    assert result.variant("treatment").value_mean == 0.0  # a non-number counts as nothing


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
    assert "Readout: 'Order completed'" in text and "always-valid p" in text
    assert "revenue per exposed user (Welch's t-test)" in text
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
