"""An always-valid p-value for a conversion difference: the mixture SPRT (mSPRT).

A fixed-horizon p-value is valid only when read once, at a sample size fixed in advance.
Read every day and stopped at the first p < 0.05, an A/A test "wins" far more often than 5%
of the time. The mSPRT of Johari, Pekelis and Walsh ("Always valid inference", 2017; the
method behind Optimizely's stats engine) gives a p-value that may be read after every event:
the chance that it *ever* drops below alpha under no effect is at most alpha.

With the difference of conversion rates ``d`` estimated as ``d_hat`` with variance ``V``
(normal approximation) and a normal mixing prior of standard deviation ``tau`` on ``d``,
the mixture likelihood ratio against ``d = 0`` is::

    L = sqrt(V / (V + tau^2)) * exp(d_hat^2 * tau^2 / (2 * V * (V + tau^2)))

and the always-valid p-value after each look is ``p = min(previous p, 1 / L)``.

>>> looks = [(n // 7, n, n // 10, n) for n in range(100, 3001, 100)]
>>> p = always_valid_p(looks)
>>> 0.0 < p < 0.05
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["DEFAULT_MIXING_SD", "always_valid_p", "mixture_ratio"]

#: Mixing standard deviation on the absolute difference of conversion rates: the effect
#: sizes the test is most sensitive to are around this (5 percentage points).
DEFAULT_MIXING_SD = 0.05
#: Looks start once each arm has this many users; the normal approximation needs some.
DEFAULT_MIN_USERS = 100


def mixture_ratio(
    x_treatment: int,
    n_treatment: int,
    x_control: int,
    n_control: int,
    mixing_sd: float = DEFAULT_MIXING_SD,
) -> float:
    """The mSPRT likelihood ratio at one look (1.0 when it cannot be computed yet).

    >>> round(mixture_ratio(100, 1000, 100, 1000), 4) < 1
    True
    """
    if n_treatment <= 0 or n_control <= 0:
        return 1.0
    p1, p2 = x_treatment / n_treatment, x_control / n_control
    variance = p1 * (1.0 - p1) / n_treatment + p2 * (1.0 - p2) / n_control
    if variance <= 0.0:
        return 1.0
    tau2 = mixing_sd * mixing_sd
    diff = p1 - p2
    exponent = diff * diff * tau2 / (2.0 * variance * (variance + tau2))
    return math.sqrt(variance / (variance + tau2)) * math.exp(min(exponent, 700.0))


def always_valid_p(
    looks: Iterable[tuple[int, int, int, int]],
    mixing_sd: float = DEFAULT_MIXING_SD,
    min_users: int = DEFAULT_MIN_USERS,
) -> float:
    """The always-valid p-value after a sequence of looks.

    Each look is ``(converted_treatment, users_treatment, converted_control, users_control)``
    as known at that moment, in time order; looks before both arms have ``min_users`` are
    ignored. Looking after every event is allowed: that is the point.

    >>> always_valid_p([])
    1.0
    """
    p = 1.0
    for x1, n1, x2, n2 in looks:
        if n1 < min_users or n2 < min_users:
            continue
        p = min(p, 1.0 / mixture_ratio(x1, n1, x2, n2, mixing_sd))
    return p
