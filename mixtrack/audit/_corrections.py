"""Multiple comparisons: Bonferroni and Benjamini-Hochberg across metrics and variants.

Every comparison of a treatment with control, on every metric, is one hypothesis of the
family. Adjusted p-values are compared with the same alpha as one test; the intervals shown
beside them are widened to match, so an interval excludes 0 exactly when its adjusted p is
below alpha:

* ``bonferroni``: ``p * m``; intervals at level ``1 - alpha / m``.
* ``bh``: Benjamini-Hochberg step-up adjusted p-values; intervals at ``1 - R alpha / m``
  with ``R`` the number of rejections (Benjamini and Yekutieli's false-coverage-rate
  intervals).

>>> adjust([0.01, 0.04, 0.03], "bonferroni")
[0.03, 0.12, 0.09]
>>> [round(p, 3) for p in adjust([0.01, 0.04, 0.03], "bh")]
[0.03, 0.04, 0.04]
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CORRECTIONS", "adjust", "corrected_confidence"]

CORRECTIONS = ("none", "bonferroni", "bh")


def _check(method: str) -> None:
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}; got {method!r}")


def adjust(p_values: Sequence[float], method: str) -> list[float]:
    """The adjusted p-values of a family, in the order given."""
    _check(method)
    m = len(p_values)
    if method == "none" or m == 0:
        return list(p_values)
    if method == "bonferroni":
        return [min(1.0, p * m) for p in p_values]
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def corrected_confidence(p_values: Sequence[float], method: str, confidence: float = 0.95) -> float:
    """The confidence level of the intervals shown beside the adjusted p-values.

    >>> round(corrected_confidence([0.01, 0.5], "bonferroni"), 4)
    0.975
    """
    _check(method)
    alpha = 1.0 - confidence
    m = len(p_values)
    if method == "none" or m <= 1:
        return confidence
    if method == "bonferroni":
        return 1.0 - alpha / m
    rejected = sum(1 for p in adjust(p_values, "bh") if p < alpha)
    return 1.0 - max(rejected, 1) * alpha / m
