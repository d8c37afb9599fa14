"""The audit's statistics equal scipy.stats to 1e-9, on generated data."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from mixtrack.audit import _stats

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
