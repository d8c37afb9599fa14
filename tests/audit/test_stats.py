"""The audit's statistics equal scipy.stats to 1e-9, on generated data."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from mixtrack.audit import _stats
from mixtrack.audit._sequential import always_valid_p, mixture_ratio

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL


@pytest.mark.parametrize("z", [-9.0, -4.2, -1.96, -0.3, 0.0, 0.7, 1.644, 2.5, 6.0, 8.5])
def test_normal_sf(z: float) -> None:
    assert close(_stats.normal_sf(z), stats.norm.sf(z))


@pytest.mark.parametrize("p", [1e-12, 1e-6, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 1 - 1e-9])
def test_normal_ppf(p: float) -> None:
    assert close(_stats.normal_ppf(p), stats.norm.ppf(p))


def test_chi2_sf_on_a_grid() -> None:
    rng = random.Random(1)
    for df in (1, 2, 3, 4, 7, 12, 30, 99):
        for _ in range(40):
            x = rng.uniform(0, 4 * df + 40)
            assert close(_stats.chi2_sf(x, df), stats.chi2.sf(x, df)), (x, df)


def test_t_sf_and_ppf_on_a_grid() -> None:
    rng = random.Random(2)
    for df in (1.0, 2.0, 3.7, 9.0, 25.5, 120.0, 999.0, 20_000.0):
        for _ in range(30):
            t = rng.uniform(-8, 8)
            assert close(_stats.t_sf(t, df), stats.t.sf(t, df)), (t, df)
        for p in (0.005, 0.025, 0.1, 0.5, 0.9, 0.975, 0.995):
            assert close(_stats.t_ppf(p, df), stats.t.ppf(p, df)), (p, df)


def test_chi_square_goodness_of_fit() -> None:
    rng = random.Random(3)
    for _ in range(50):
        k = rng.randint(2, 5)
        weights = [rng.uniform(1, 10) for _ in range(k)]
        observed = [rng.randint(0, 2000) for _ in range(k)]
        if sum(observed) == 0:
            continue
        mine = _stats.chi_square_gof(observed, weights)
        expected = np.array(weights) / sum(weights) * sum(observed)
        theirs = stats.chisquare(observed, expected)
        assert close(mine.statistic, float(theirs.statistic))
        assert close(mine.p_value, float(theirs.pvalue))
        assert mine.df == k - 1


def test_two_proportion_z_test() -> None:
    rng = random.Random(4)
    for _ in range(60):
        n1, n2 = rng.randint(50, 20_000), rng.randint(50, 20_000)
        x1 = sum(rng.random() < 0.11 for _ in range(n1))
        x2 = sum(rng.random() < 0.10 for _ in range(n2))
        mine = _stats.two_proportion_z(x1, n1, x2, n2)
        # The pooled z-test is the chi-square test of the 2x2 table without correction.
        table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
        chi2 = stats.chi2_contingency(table, correction=False)
        assert close(mine.p_value, float(chi2.pvalue))
        assert close(mine.z**2, float(chi2.statistic)) or abs(mine.z**2 / chi2.statistic - 1) < TOL
        p1, p2 = x1 / n1, x2 / n2
        se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        low, high = stats.norm.interval(0.95, loc=p1 - p2, scale=se)
        assert close(mine.difference, p1 - p2)
        assert close(mine.ci_low, float(low)) and close(mine.ci_high, float(high))


def _revenue(rng: random.Random, mean: float) -> float:
    return rng.expovariate(1 / mean) if rng.random() < 0.2 else 0.0


def test_welch_t_test() -> None:
    rng = random.Random(5)
    for _ in range(40):
        a = [_revenue(rng, 30) for _ in range(rng.randint(5, 800))]
        b = [_revenue(rng, 25) for _ in range(rng.randint(5, 800))]
        a[0], b[0] = 1.0, 2.0  # never all zero
        mine = _stats.welch_t(a, b)
        theirs = stats.ttest_ind(a, b, equal_var=False)
        assert close(mine.t, float(theirs.statistic))
        assert close(mine.p_value, float(theirs.pvalue))
        assert close(mine.df, float(theirs.df))
        interval = theirs.confidence_interval(0.95)
        assert close(mine.ci_low, float(interval.low)) and close(mine.ci_high, float(interval.high))


def test_mixture_ratio_formula() -> None:
    x1, n1, x2, n2, tau = 130, 1000, 100, 1000, 0.05
    p1, p2 = x1 / n1, x2 / n2
    v = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    # The normal-mixture likelihood ratio: N(d; 0, V + tau^2) / N(d; 0, V) at d = p1 - p2.
    d = p1 - p2
    expected = stats.norm.pdf(d, 0, np.sqrt(v + tau**2)) / stats.norm.pdf(d, 0, np.sqrt(v))
    assert abs(mixture_ratio(x1, n1, x2, n2, tau) / expected - 1) < TOL


def _aa_trial(rng: random.Random, users: int, every: int) -> tuple[list[float], float]:
    """One A/A test looked at every ``every`` users per arm: naive p-values, always-valid p."""
    x1 = x2 = 0
    naive, looks = [], []
    for n in range(1, users + 1):
        x1 += rng.random() < 0.1
        x2 += rng.random() < 0.1
        looks.append((x1, n, x2, n))
        if n % every == 0:
            naive.append(_stats.two_proportion_z(x1, n, x2, n).p_value)
    return naive, always_valid_p(looks)


def test_peeking_inflates_false_positives_and_the_always_valid_p_does_not() -> None:
    rng = random.Random(6)
    trials = [_aa_trial(rng, 2000, 100) for _ in range(200)]
    peeking = sum(min(naive) < 0.05 for naive, _ in trials) / len(trials)
    sequential = sum(p < 0.05 for _, p in trials) / len(trials)
    once = sum(naive[-1] < 0.05 for naive, _ in trials) / len(trials)
    assert peeking > 0.12  # stopping at the first p < 0.05 of 20 looks: far above 5%
    assert once <= 0.09
    assert sequential <= 0.05


def test_always_valid_p_never_increases_with_more_looks() -> None:
    rng = random.Random(7)
    looks, x1, x2, previous = [], 0, 0, 1.0
    for n in range(1, 3000):
        x1 += rng.random() < 0.13
        x2 += rng.random() < 0.10
        looks.append((x1, n, x2, n))
        if n % 250 == 0:
            p = always_valid_p(looks)
            assert p <= previous
            previous = p
    assert previous < 0.05  # a real 3-point lift is found
