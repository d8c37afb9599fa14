"""The always-valid test keeps its promise: seeded A/A simulations at the level of counts,
looked at continuously (every 2% more users), at 50/50, 90/10 and 95/5 and base rates of 1%
and 10%; and the family-wise rate of a corrected readout with 3 treatments and 3 metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mixtrack.audit import MixtureTest, adjust, compare_proportions, mixture_p
from mixtrack.audit._sequential import mixture_half_width

#: 2,500 runs per cell: the binomial standard error at 5% is 0.44%, so a true 6% rate would
#: exceed the 5% bound with probability about 0.99.
RUNS = 2500


def looks(share: float, total: int, step: float = 1.02) -> tuple[np.ndarray, np.ndarray]:
    """Users per arm at each look: from 100 in the smaller arm, every 2% more users."""
    first = 100 / min(share, 1 - share)
    grid = np.unique(np.round(first * step ** np.arange(1000)).astype(int))
    grid = grid[grid <= total]
    n1 = np.round(grid * share).astype(int)
    return n1, grid - n1


def aa_false_positive_rate(share: float, base: float, seed: int, total: int = 60_000) -> float:
    rng = np.random.default_rng(seed)
    n1, n2 = looks(share, total)
    x1 = np.cumsum(rng.binomial(np.diff(n1, prepend=0), base, (RUNS, len(n1))), axis=1)
    x2 = np.cumsum(rng.binomial(np.diff(n2, prepend=0), base, (RUNS, len(n2))), axis=1)
    rejected = 0
    for a, b in zip(x1.tolist(), x2.tolist(), strict=True):
        test = MixtureTest()
        for k in range(len(a)):
            test.look(n1[k], a[k], a[k], n2[k], b[k], b[k])
            if test.p_value < 0.05:
                rejected += 1
                assert test.interval[0] > 0 or test.interval[1] < 0  # p and interval agree
                break
    return rejected / RUNS


@pytest.mark.parametrize("base", [0.01, 0.10])
@pytest.mark.parametrize("share", [0.5, 0.9, 0.95])
def test_aa_false_positive_rate_at_most_5_percent(share: float, base: float) -> None:
    rate = aa_false_positive_rate(share, base, seed=int(share * 100 + base * 1000))
    assert rate <= 0.05, rate


def test_a_real_lift_is_found_at_an_uneven_split() -> None:
    rng = np.random.default_rng(3)
    n1, n2 = looks(0.1, 400_000)
    found = 0
    for _ in range(100):
        a = np.cumsum(rng.binomial(np.diff(n1, prepend=0), 0.10 * 1.2)).tolist()
        b = np.cumsum(rng.binomial(np.diff(n2, prepend=0), 0.10)).tolist()
        test = MixtureTest()
        for k in range(len(a)):
            test.look(n1[k], a[k], a[k], n2[k], b[k], b[k])
        found += test.p_value < 0.05 and test.interval[0] > 0
    assert found >= 90


def test_mixture_ratio_is_the_normal_mixture() -> None:
    rng = np.random.default_rng(8)
    for _ in range(200):
        d, v, tau = rng.normal(0, 0.01), rng.uniform(1e-6, 1e-3), rng.uniform(1e-3, 0.05)
        ratio = stats.norm.pdf(d, 0, math.sqrt(v + tau**2)) / stats.norm.pdf(d, 0, math.sqrt(v))
        assert abs(mixture_p(d, v, tau) - min(1.0, 1 / ratio)) <= 1e-9 * max(1.0, 1 / ratio)
        # The interval's edge is where the ratio reaches 1/alpha.
        edge = d + mixture_half_width(v, tau, 0.05)
        log_at_edge = stats.norm.logpdf(d - edge, 0, math.sqrt(v + tau**2)) - stats.norm.logpdf(
            d - edge, 0, math.sqrt(v)
        )
        assert abs(log_at_edge - math.log(20.0)) < 1e-6


def test_small_arm_without_conversions_is_not_evidence() -> None:
    test = MixtureTest()
    for n in range(100, 3000, 10):
        test.look(n, 0, 0, 9 * n, 0.01 * 9 * n, 0.01 * 9 * n)
    assert test.p_value > 0.05


@pytest.mark.parametrize("method", ["bonferroni", "bh"])
def test_family_wise_rate_with_correction(method: str) -> None:
    rng = np.random.default_rng(11)
    runs, users, metrics, treatments = 4000, 5000, 3, 3
    bases = np.array([0.02, 0.1, 0.3])
    control = rng.binomial(users, bases, (runs, metrics))
    treated = rng.binomial(users, bases[None, None, :], (runs, treatments, metrics))
    any_false = uncorrected = 0
    for r in range(runs):
        ps = [
            compare_proportions(int(treated[r, t, m]), users, int(control[r, m]), users).p_value
            for t in range(treatments)
            for m in range(metrics)
        ]
        any_false += min(adjust(ps, method)) < 0.05
        uncorrected += min(ps) < 0.05
    assert uncorrected / runs > 0.25  # nine looks at noise: the problem being solved
    assert any_false / runs <= 0.05
