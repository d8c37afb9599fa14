"""An always-valid p-value and interval for a difference of means: the mixture SPRT (mSPRT).

A fixed-horizon p-value is valid only when read once, at a sample size fixed in advance.
Read every day and stopped at the first p < 0.05, an A/A test "wins" far more often than 5%
of the time. The mSPRT of Johari, Pekelis and Walsh ("Always valid inference", 2017) gives a
p-value that may be read after every event: the chance that it *ever* drops below alpha
under no effect is at most alpha (up to the normal approximation).

For the difference ``d`` of two per-user means (a conversion rate is the mean of 0/1), its
estimate ``d_hat`` with variance ``V`` and a normal mixing distribution of standard
deviation ``tau`` on ``d``, the mixture likelihood ratio against ``d = 0`` is::

    L = sqrt(V / (V + tau^2)) * exp(d_hat^2 * tau^2 / (2 * V * (V + tau^2)))

Two choices keep it valid at any split and base rate:

* ``V`` is the **null-pooled** variance: under ``d = 0`` both arms share one distribution,
  so its variance is estimated from both arms together, ``V = s^2 (1/n1 + 1/n2)``. A plug-in
  per-arm variance is zero while the small arm has no conversions, and the ratio explodes.
* ``tau`` is **relative**: ``tau = relative_tau * |pooled mean|`` (the pooled standard
  deviation when the mean is zero), so the effects the test is tuned to are a share of the
  baseline (10% by default), whatever the base rate.

Looks start once each arm has ``min_users`` users. The p-value after each look is
``min(previous p, 1 / L)``, and the interval is the running intersection of
``{d : L(d) < 1/alpha}``, so ``p <= alpha`` exactly when the interval excludes 0.

>>> test = MixtureTest(relative_tau=0.1, min_users=100)
>>> for n in range(100, 20001, 100):
...     test.look(n, n * 0.12, n * 0.12, n, n * 0.10, n * 0.10)
>>> test.p_value < 0.05, test.interval[0] > 0
(True, True)
"""

from __future__ import annotations

import math

__all__ = [
    "DEFAULT_MIN_USERS",
    "DEFAULT_RELATIVE_TAU",
    "MixtureTest",
    "mixture_half_width",
    "mixture_p",
]

#: Mixing standard deviation as a share of the baseline mean: lifts of about 10% are
#: found fastest (see docs/audit.md for its power against the fixed-horizon test).
DEFAULT_RELATIVE_TAU = 0.1
#: Looks start once each arm has this many users; the normal approximation needs some.
DEFAULT_MIN_USERS = 100


def mixture_p(d_hat: float, variance: float, tau: float) -> float:
    """``1 / L``, the mSPRT p-value of one look (1.0 when ``variance`` or ``tau`` is 0).

    >>> round(mixture_p(0.02, 0.0001, 0.01), 6)
    0.52026
    """
    if variance <= 0.0 or tau <= 0.0:
        return 1.0
    tau2 = tau * tau
    exponent = d_hat * d_hat * tau2 / (2.0 * variance * (variance + tau2))
    log_p = 0.5 * math.log((variance + tau2) / variance) - exponent
    return math.exp(log_p) if log_p < 0.0 else 1.0


def mixture_half_width(variance: float, tau: float, alpha: float) -> float:
    """Half the width of the always-valid interval ``{d : L(d) < 1/alpha}`` around ``d_hat``.

    >>> round(mixture_half_width(0.0001, 0.01, 0.05), 6)
    0.036564
    """
    if variance <= 0.0 or tau <= 0.0:
        return math.inf
    tau2 = tau * tau
    spread = variance * (variance + tau2) / tau2
    return math.sqrt(
        spread * (2.0 * math.log(1.0 / alpha) + math.log((variance + tau2) / variance))
    )


class MixtureTest:
    """The running mSPRT of treatment (arm 1) against control (arm 2), fed by looks.

    Each look gives, per arm, the users ``n``, the sum ``s`` and the sum of squares ``q`` of
    their values (0/1 for a conversion, so ``q == s``).
    """

    def __init__(
        self,
        relative_tau: float = DEFAULT_RELATIVE_TAU,
        min_users: int = DEFAULT_MIN_USERS,
        alpha: float = 0.05,
    ) -> None:
        if not 0.0 < relative_tau < math.inf:
            raise ValueError(f"the sequential tau must be a positive share, got {relative_tau!r}")
        if min_users < 2:
            raise ValueError(f"the sequential minimum must be at least 2 users, got {min_users!r}")
        self.relative_tau = relative_tau
        self.min_users = min_users
        self.alpha = alpha
        self.p_value = 1.0
        self.interval = (-math.inf, math.inf)
        self.looks = 0

    @property
    def started(self) -> bool:
        """Whether any look counted (both arms had ``min_users``)."""
        return self.looks > 0

    def look(self, n1: float, s1: float, q1: float, n2: float, s2: float, q2: float) -> None:
        """Take one look at the running totals of both arms."""
        if n1 < self.min_users or n2 < self.min_users:
            return
        n = n1 + n2
        mean = (s1 + s2) / n
        spread = max((q1 + q2) / n - mean * mean, 0.0)
        if spread <= 0.0:
            return
        self.looks += 1
        variance = spread * (1.0 / n1 + 1.0 / n2)
        tau = self.relative_tau * (abs(mean) if mean else math.sqrt(spread))
        d_hat = s1 / n1 - s2 / n2
        self.p_value = min(self.p_value, mixture_p(d_hat, variance, tau))
        half = mixture_half_width(variance, tau, self.alpha)
        low, high = max(self.interval[0], d_hat - half), min(self.interval[1], d_hat + half)
        # Intervals of far-apart looks can miss each other only by chance (at most alpha):
        # keep the latest rather than report an empty set.
        self.interval = (low, high) if low <= high else (d_hat - half, d_hat + half)
