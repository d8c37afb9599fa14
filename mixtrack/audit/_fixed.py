"""Fixed-horizon comparisons of a treatment with control, one test per metric family.

Conversion rates are compared as Mixpanel's experiment report compares them: a two-sided z
test whose standard error is **unpooled**, ``sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)`` (its
worked example, 5/10 against 6/10, gives z = 0.45, p = 0.65). Per-user counts and values are
compared with Welch's t-test. In both, the p-value and the interval come from the same
standard error, so the interval excludes 0 exactly when p < 1 - confidence.

The relative lift ``m1 / m2 - 1`` gets its own interval by the delta method::

    se(m1 / m2) = sqrt(se1^2 / m2^2 + m1^2 se2^2 / m2^4)

>>> r = compare_proportions(6, 10, 5, 10)
>>> round(r.statistic, 2), round(r.p_value, 2)
(0.45, 0.65)
"""

from __future__ import annotations

import math

import attrs

from mixtrack.audit._stats import normal_ppf, normal_sf, t_ppf, t_sf

__all__ = ["Difference", "compare_means", "compare_proportions"]


@attrs.frozen
class Difference:
    """Treatment minus control: the difference of means, its interval, the test, the lift.

    ``df`` is None for a z-test. ``relative`` and its interval are None when the control
    mean is 0.
    """

    treatment_mean: float
    control_mean: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    df: float | None = None
    relative: float | None = None
    relative_low: float | None = None
    relative_high: float | None = None
    confidence: float = 0.95
    #: The standard errors of the two means, for intervals at other levels.
    se1: float = 0.0
    se2: float = 0.0

    @property
    def difference(self) -> float:
        return self.treatment_mean - self.control_mean

    def critical(self, confidence: float) -> float:
        """The two-sided critical value of this test at ``confidence``."""
        upper = 0.5 + confidence / 2.0
        return normal_ppf(upper) if self.df is None else t_ppf(upper, self.df)

    def at(self, confidence: float) -> tuple[float, float, float | None, float | None]:
        """The difference's and the relative lift's intervals at another ``confidence``
        (a corrected level): ``(low, high, relative_low, relative_high)``."""
        margin = self.critical(confidence) * self.se
        low, high = self.difference - margin, self.difference + margin
        if self.relative is None:
            return low, high, None, None
        rel_margin = self.critical(confidence) * _relative_se(
            self.treatment_mean, self.control_mean, self.se1, self.se2
        )
        return low, high, self.relative - rel_margin, self.relative + rel_margin

    def as_json(self) -> dict[str, float | None]:
        return {
            "treatment_mean": self.treatment_mean,
            "control_mean": self.control_mean,
            "difference": self.difference,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "relative_lift": self.relative,
            "relative_ci_low": self.relative_low,
            "relative_ci_high": self.relative_high,
        }


def _relative_se(m1: float, m2: float, se1: float, se2: float) -> float:
    return math.sqrt(se1 * se1 / (m2 * m2) + m1 * m1 * se2 * se2 / m2**4)


def _difference(
    m1: float, se1: float, m2: float, se2: float, df: float | None, confidence: float
) -> Difference:
    se = math.sqrt(se1 * se1 + se2 * se2)
    diff = m1 - m2
    upper = 0.5 + confidence / 2.0
    critical = normal_ppf(upper) if df is None else t_ppf(upper, df)
    if se > 0.0:
        statistic = diff / se
        tail = normal_sf(abs(statistic)) if df is None else t_sf(abs(statistic), df)
        p_value = min(1.0, 2.0 * tail)
    else:
        statistic, p_value = 0.0, 1.0
    relative = low = high = None
    if m2 != 0.0:
        relative = m1 / m2 - 1.0
        margin = critical * _relative_se(m1, m2, se1, se2)
        low, high = relative - margin, relative + margin
    return Difference(
        m1, m2, se, diff - critical * se, diff + critical * se, statistic, p_value, df,
        relative, low, high, confidence, se1, se2,
    )  # fmt: skip


def compare_proportions(
    x_treatment: int, n_treatment: int, x_control: int, n_control: int, confidence: float = 0.95
) -> Difference:
    """Two-sided z-test of two conversion rates with the unpooled standard error.

    >>> r = compare_proportions(120, 1000, 100, 1000)
    >>> round(r.difference, 3), round(r.p_value, 4), round(r.relative, 2)
    (0.02, 0.1527, 0.2)
    """
    if n_treatment <= 0 or n_control <= 0:
        raise ValueError("both groups need at least one user")
    p1, p2 = x_treatment / n_treatment, x_control / n_control
    se1 = math.sqrt(p1 * (1.0 - p1) / n_treatment)
    se2 = math.sqrt(p2 * (1.0 - p2) / n_control)
    return _difference(p1, se1, p2, se2, None, confidence)


def compare_means(
    mean_treatment: float,
    var_treatment: float,
    n_treatment: int,
    mean_control: float,
    var_control: float,
    n_control: int,
    confidence: float = 0.95,
) -> Difference:
    """Welch's t-test of two means from their sample means and (n - 1) variances.

    >>> r = compare_means(2.5, 5 / 3, 4, 1.5, 1 / 3, 4)
    >>> round(r.statistic, 4), round(r.p_value, 4)
    (1.4142, 0.2277)
    """
    if n_treatment < 2 or n_control < 2:
        raise ValueError("Welch's t-test needs at least two values in each group")
    a, b = var_treatment / n_treatment, var_control / n_control
    if a + b > 0.0:
        df = (a + b) ** 2 / (a * a / (n_treatment - 1) + b * b / (n_control - 1))
    else:
        df = float(n_treatment + n_control - 2)
    return _difference(mean_treatment, math.sqrt(a), mean_control, math.sqrt(b), df, confidence)
