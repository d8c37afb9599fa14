"""The readout as text: one table per metric, columns labelled with their units.

Differences of conversion rates are in percentage points (``pp``), relative lifts in percent
(``%``), differences of counts and values in the metric's own unit; every interval says its
level.

>>> from mixtrack.audit._readout import readout
>>> def e(name, user, t, **props):
...     return {"event": name, "properties": {"distinct_id": user, "time": t, **props}}
>>> events = [e("$experiment_started", f"u{i}", i, **{"Experiment name": "x",
...           "Variant name": "ab"[i % 2]}) for i in range(8)]
>>> print(format_readout(readout(events, "Paid")).splitlines()[0])
Readout of 'x' (control: a), 1 metric(s), no correction
"""

from __future__ import annotations

from collections.abc import Sequence

from mixtrack.audit._readout import MetricResult, Readout, VariantResult

__all__ = ["format_readout", "table"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Columns padded to width: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def p_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 0.0001 else f"{value:.1e}"


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.2f}" if signed else f"{value * 100:.2f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4g}"


def _span(low: float | None, high: float | None, pct: bool) -> str:
    if low is None or high is None:
        return "-"
    show = _pct if pct else _num
    return f"[{show(low)}, {show(high)}]"


def _row(v: VariantResult, conversion: bool) -> list[str]:
    base = [v.variant, str(v.users)]
    base += [str(v.converted), _pct(v.mean, signed=False)] if conversion else [f"{v.mean:.4g}"]
    c = v.versus_control
    if c is None:
        return [*base, *(["-"] * 8)]
    diff = _pct(c.difference) if conversion else _num(c.difference)
    flag = " !" if c.worse else (" *" if c.significant else "")
    return [
        *base,
        diff,
        _span(c.ci_low, c.ci_high, conversion),
        _pct(c.relative_lift),
        _span(c.relative_low, c.relative_high, True),
        p_text(c.p_value),
        p_text(c.p_adjusted) + flag,
        p_text(c.always_valid_p_adjusted),
        _span(c.always_valid_low, c.always_valid_high, conversion),
    ]


def _metric(result: Readout, one: MetricResult) -> list[str]:
    m = one.metric
    conversion = m.kind == "conversion"
    what = {
        "conversion": "converted at least once",
        "count": "events per user",
        "sum": f"total {m.prop} per user",
    }[m.kind]
    cap = "" if one.cap is None else f", winsorized at p{m.winsor:g} = {one.cap:.4g}"
    lines = [f"{m.label}: {what}{cap}"]
    level = f"{result.corrected_confidence * 100:.4g}%"
    unit = "pp" if conversion else "diff"
    head = ["variant", "users", *(["converted", "rate %"] if conversion else ["mean"])]
    head += [
        f"lift ({unit})", f"{level} CI ({unit})", "rel. lift %", f"{level} CI (rel. %)",
        "p", "p adj.", "always-valid p", f"always-valid CI ({unit})",
    ]  # fmt: skip
    lines += table(head, [_row(v, conversion) for v in one.variants])
    return lines


def format_readout(result: Readout) -> str:
    """The readout as text: per metric and variant the mean, lifts, intervals and p-values."""
    correction = (
        "no correction"
        if result.correction == "none"
        else f"{result.correction} correction over {result.comparisons} comparisons"
    )
    lines = [
        f"Readout of {result.experiment!r} (control: {result.control}), "
        f"{len(result.metrics)} metric(s), {correction}",
        "=" * 60,
    ]
    for one in result.metrics:
        lines += _metric(result, one)
        lines.append("")
    lines.append(
        "  pp = percentage points; rel. % = relative lift in percent; * significant after the "
        "correction; ! a guardrail significantly worse."
    )
    if result.correction == "none" and result.comparisons > 1:
        chance = 1.0 - (1.0 - (1.0 - result.confidence)) ** result.comparisons
        lines.append(
            f"  {result.comparisons} comparisons without correction: the chance of at least one "
            f"false positive is up to {chance:.0%}; use --correction bonferroni or bh."
        )
    if any(v.versus_control and v.versus_control.always_valid_p is None for v in result.variants):
        lines.append(
            f"  (the always-valid p-value starts once each variant has {result.min_users} users)"
        )
    for metric, variant in result.regressions():
        lines.append(
            f"  GUARDRAIL FAILED: {metric.name} is significantly worse in {variant.variant}"
        )
    lines += ["", "Warning: " + result.warning]
    return "\n".join(lines)
