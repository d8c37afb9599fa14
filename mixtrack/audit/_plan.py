"""Planned weights: from ``control=50,treatment=50`` or from a flags file.

>>> parse_weights("control=50, treatment=50")
{'control': 50.0, 'treatment': 50.0}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["parse_weights", "weights_from_flags"]


def parse_weights(text: str) -> dict[str, float]:
    """``"control=50,treatment=50"`` as ``{"control": 50.0, "treatment": 50.0}``."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            weight = float(value) if sep else float("nan")
        except ValueError:
            weight = float("nan")
        if not name.strip() or not weight > 0:
            raise ValueError(
                f"weights look like control=50,treatment=50 (positive numbers); got {part!r}"
            )
        weights[name.strip()] = weight
    if len(weights) < 2:
        raise ValueError(f"weights need two or more variants, got {text!r}")
    return weights


def weights_from_flags(
    flags: str | os.PathLike[str] | Mapping[str, Any],
) -> dict[str, dict[str, float]]:
    """The planned split of every experiment in a :class:`~mixtrack.flags.StaticFlags` file
    (or mapping): ``{experiment: {variant: weight}}``.

    >>> weights_from_flags({"checkout": {"control": 50, "treatment": 50}})
    {'checkout': {'control': 50.0, 'treatment': 50.0}}
    """
    from mixtrack.flags import StaticFlags

    static = StaticFlags(flags)
    # StaticFlags keeps the parsed weights; its public API names the variants only.
    parsed = static._experiments
    return {
        name: {variant: float(weight) for variant, weight in parsed[name].weights}
        for name in static.experiments
    }
