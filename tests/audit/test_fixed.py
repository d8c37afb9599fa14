"""Every fixed-horizon number against scipy: z and Welch tests, intervals, relative lift,
corrections; and Mixpanel's worked example."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from mixtrack.audit import adjust, compare_means, compare_proportions
from mixtrack.audit._corrections import corrected_confidence

TOL = 1e-9


def test_mixpanels_worked_example() -> None:
    # 5 of 10 converted in control, 6 of 10 in the treatment: z = 0.45, p = 0.65.
    r = compare_proportions(6, 10, 5, 10)
    assert round(r.statistic, 2) == 0.45 and round(r.p_value, 2) == 0.65
    assert r.ci_low < 0 < r.ci_high


def test_p_value_and_interval_agree_where_the_pooled_test_did_not() -> None:
    # Pooled p = 0.062 was printed beside an unpooled interval that excluded 0.
    r = compare_proportions(81, 2000, 900, 18000)
    assert (r.p_value < 0.05) == (r.ci_high < 0 or r.ci_low > 0)


def _delta_relative(m1: float, se1: float, m2: float, se2: float) -> float:
    # Gradient of m1/m2 - 1 at (m1, m2), times the diagonal covariance.
    grad = np.array([1 / m2, -m1 / m2**2])
    return float(np.sqrt(grad @ np.diag([se1**2, se2**2]) @ grad))


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_proportions_equal_scipy(confidence: float) -> None:
    rng = random.Random(4)
    for _ in range(60):
        n1, n2 = rng.randint(20, 20_000), rng.randint(20, 20_000)
        x1, x2 = (
            int(np.random.default_rng(rng.randint(0, 9999)).binomial(n1, 0.11)),
            rng.randint(1, n2 // 5),
        )
        r = compare_proportions(x1, n1, x2, n2, confidence)
        p1, p2 = x1 / n1, x2 / n2
        se1, se2 = np.sqrt(p1 * (1 - p1) / n1), np.sqrt(p2 * (1 - p2) / n2)
        se = np.hypot(se1, se2)
        z = (p1 - p2) / se
        assert abs(r.statistic - z) < TOL
        assert abs(r.p_value - 2 * stats.norm.sf(abs(z))) < TOL
        low, high = stats.norm.interval(confidence, loc=p1 - p2, scale=se)
        assert abs(r.ci_low - low) < TOL and abs(r.ci_high - high) < TOL
        assert (r.p_value < 1 - confidence) == (low > 0 or high < 0)
        rel_low, rel_high = stats.norm.interval(
            confidence, loc=p1 / p2 - 1, scale=_delta_relative(p1, se1, p2, se2)
        )
        assert r.relative_low is not None and r.relative_high is not None
        assert abs(r.relative_low - rel_low) < TOL and abs(r.relative_high - rel_high) < TOL


def test_means_equal_scipy_welch() -> None:
    rng = np.random.default_rng(5)
    for _ in range(60):
        a = rng.exponential(30, rng.integers(5, 800)) * (rng.random() < 0.3)
        b = rng.exponential(25, rng.integers(5, 800)) * (rng.random() < 0.3)
        a[0], b[0] = 1.0, 2.0
        r = compare_means(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
        theirs = stats.ttest_ind(a, b, equal_var=False)
        assert abs(r.statistic - theirs.statistic) < TOL
        assert abs(r.p_value - theirs.pvalue) < TOL and abs(r.df - theirs.df) < TOL
        ci = theirs.confidence_interval(0.95)
        assert abs(r.ci_low - ci.low) < TOL and abs(r.ci_high - ci.high) < TOL
        se1, se2 = a.std(ddof=1) / np.sqrt(len(a)), b.std(ddof=1) / np.sqrt(len(b))
        critical = stats.t.ppf(0.975, theirs.df)
        half = critical * _delta_relative(a.mean(), se1, b.mean(), se2)
        assert r.relative is not None and r.relative_low is not None
        expected = a.mean() / b.mean() - 1 - half
        assert abs(r.relative_low - expected) <= TOL * max(1.0, abs(expected))


def test_corrections_equal_scipy() -> None:
    rng = np.random.default_rng(6)
    for _ in range(40):
        p = rng.uniform(0, 0.2, rng.integers(1, 12)).tolist()
        assert np.allclose(adjust(p, "bh"), stats.false_discovery_control(p), atol=TOL)
        assert np.allclose(adjust(p, "bonferroni"), np.minimum(np.array(p) * len(p), 1), atol=TOL)
        assert adjust(p, "none") == p
    with pytest.raises(ValueError, match="bonferroni"):
        adjust([0.1], "holm")


def test_corrected_intervals_agree_with_adjusted_p() -> None:
    rng = np.random.default_rng(7)
    for method in ("bonferroni", "bh"):
        for _ in range(50):
            diffs = [
                compare_proportions(int(rng.integers(80, 140)), 1000, 100, 1000) for _ in range(6)
            ]
            ps = [d.p_value for d in diffs]
            level = corrected_confidence(ps, method)
            for d, q in zip(diffs, adjust(ps, method), strict=True):
                low, high, _, _ = d.at(level)
                assert (q < 0.05) == (low > 0 or high < 0), (method, q, low, high)
