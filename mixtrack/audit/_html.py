"""The readout as a picture: one self-contained HTML page (inline SVG, no network).

Per metric, each variant's mean (rate) with its interval as a bar with a whisker, and the
cumulative relative lift of each treatment over time with its always-valid band.
:func:`render_panel` is the fragment the collector's live view shows; :func:`render_html`
wraps it, with the audit's findings, in a page.

>>> render_panel(None).startswith("<section")
True
"""

from __future__ import annotations

import html
import math

from mixtrack.audit._findings import AuditReport
from mixtrack.audit._readout import MetricResult, Readout
from mixtrack.audit._report import format_audit

__all__ = ["render_html", "render_panel"]

_COLORS = ("#6b7280", "#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed")
_W, _H, _PAD = 520, 180, 40


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _size(width: int, height: int) -> str:
    # Scales down to a narrow card (the live view's sidebar) instead of being cut off.
    return (
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' style="max-width:{width}px"'
    )


def _rate_chart(one: MetricResult, level: float) -> str:
    """Horizontal bars: each variant's mean, and the interval of its mean."""
    conversion = one.metric.kind == "conversion"
    rows = []
    for v in one.variants:
        se = (
            math.sqrt(v.mean * (1 - v.mean) / v.users if conversion else v.variance / v.users)
            if v.users
            else 0.0
        )
        rows.append((v, v.mean - 1.96 * se, v.mean + 1.96 * se))
    top = max([high for _, _, high in rows] + [1e-12])
    height = 26 * len(rows) + 20
    scale = (_W - 2 * _PAD - 80) / top
    parts = [f'<svg class="rate-chart" {_size(_W, height)} role="img">']
    for i, (v, low, high) in enumerate(rows):
        y = 10 + 26 * i
        color = _COLORS[i % len(_COLORS)]
        shown = f"{v.mean * 100:.2f}%" if conversion else f"{v.mean:.4g}"
        parts += [
            f'<text x="0" y="{y + 14}" font-size="12">{_esc(v.variant)}</text>',
            f'<rect class="bar" data-variant="{_esc(v.variant)}" data-mean="{v.mean}"'
            f' x="{_PAD + 40}" y="{y}" width="{max(v.mean * scale, 1):.1f}" height="18"'
            f' fill="{color}" opacity="0.75"/>',
            f'<line class="ci" x1="{_PAD + 40 + max(low, 0) * scale:.1f}"'
            f' x2="{_PAD + 40 + high * scale:.1f}"'
            f' y1="{y + 9}" y2="{y + 9}" stroke="#111" stroke-width="2"/>',
            f'<text x="{_PAD + 46 + high * scale:.1f}" y="{y + 14}" font-size="11">{shown}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def _lift_chart(one: MetricResult) -> str:
    """Cumulative relative lift over time per treatment, with its always-valid band."""
    points = one.lift_over_time
    values = [
        x
        for p in points
        for _, lift, low, high in p.lifts
        for x in (lift, low, high)
        if x is not None
    ]
    if len(points) < 2 or not values:
        return '<p class="muted">Not enough data for the lift over time yet.</p>'
    lo, hi = min(min(values), 0.0), max(max(values), 0.0)
    lo, hi = max(lo, -2.0), min(hi, 2.0)  # a wild early band should not flatten the line
    span = (hi - lo) or 1.0
    t0, t1 = points[0].time, points[-1].time
    width = (t1 - t0) or 1.0

    def x(t: float) -> float:
        return _PAD + (t - t0) / width * (_W - 2 * _PAD)

    def y(v: float) -> float:
        return 10 + (hi - min(max(v, lo), hi)) / span * (_H - 30)

    parts = [
        f'<svg class="lift-chart" {_size(_W, _H)} role="img">',
        f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{y(0):.1f}" y2="{y(0):.1f}"'
        ' stroke="#999" stroke-dasharray="4"/>',
        f'<text x="0" y="{y(0) + 4:.1f}" font-size="10">0%</text>',
    ]
    # The axis ends, unless one of them is the 0 line already labelled.
    parts += [
        f'<text x="0" y="{y(end) + (4 if end == hi else 0):.1f}" font-size="10">'
        f"{end * 100:+.0f}%</text>"
        for end in (hi, lo)
        if end != 0.0
    ]
    names = [name for name, *_ in points[-1].lifts]
    for i, name in enumerate(names):
        color = _COLORS[(i + 1) % len(_COLORS)]
        line, upper, lower = [], [], []
        for p in points:
            for other, lift, low, high in p.lifts:
                if other != name or lift is None:
                    continue
                line.append(f"{x(p.time):.1f},{y(lift):.1f}")
                if low is not None and high is not None:
                    upper.append(f"{x(p.time):.1f},{y(high):.1f}")
                    lower.append(f"{x(p.time):.1f},{y(low):.1f}")
        if upper:
            band = " ".join(upper + lower[::-1])
            parts.append(f'<polygon class="band" points="{band}" fill="{color}" opacity="0.15"/>')
        parts.append(
            f'<polyline class="lift" data-variant="{_esc(name)}" points="{" ".join(line)}"'
            f' fill="none" stroke="{color}" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{_W - _PAD + 4}" y="{20 + 14 * i}" font-size="11"'
            f' fill="{color}">{_esc(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _verdict(one: MetricResult) -> str:
    cells = []
    for v in one.variants[1:]:
        c = v.versus_control
        if c is None:
            continue
        rel = "-" if c.relative_lift is None else f"{c.relative_lift * 100:+.2f}%"
        rel_ci = (
            ""
            if c.relative_low is None or c.relative_high is None
            else f" [{c.relative_low * 100:+.2f}%, {c.relative_high * 100:+.2f}%]"
        )
        scale, unit = (100.0, " pp") if one.metric.kind == "conversion" else (1.0, "")
        absolute = (
            f"difference {c.difference * scale:+.3g}{unit} "
            f"[{c.ci_low * scale:+.3g}, {c.ci_high * scale:+.3g}]{unit}; "
        )
        word = (
            "worse (guardrail fails)"
            if c.worse
            else "significant"
            if c.significant
            else "not significant"
        )
        seq = "-" if c.always_valid_p_adjusted is None else f"{c.always_valid_p_adjusted:.3g}"
        css = "bad" if c.worse else "sig" if c.significant else ""
        cells.append(
            f'<li class="{css}">{_esc(v.variant)}: '
            f"{absolute}relative lift {rel}{rel_ci} (delta method), "
            f"p adj. {c.p_adjusted:.3g}, always-valid p {seq} "
            f"&mdash; <b>{word}</b></li>"
        )
    return "<ul>" + "".join(cells) + "</ul>"


def render_panel(result: Readout | None, error: str | None = None) -> str:
    """The charts of a readout as an HTML fragment (a ``<section>``), for a page or the
    live view."""
    if result is None:
        message = _esc(error or "No readout.")
        return f'<section class="readout"><p class="muted">{message}</p></section>'
    heading = f"{_esc(result.experiment)} (control: {_esc(result.control)})"
    parts = [
        f'<section class="readout"><h2>{heading}</h2>',
        f'<p class="muted">correction: {_esc(result.correction)}; intervals at '
        f"{result.corrected_confidence * 100:.4g}%</p>",
    ]
    for one in result.metrics:
        parts += [
            f'<div class="metric" data-metric="{_esc(one.metric.name)}">',
            f"<h3>{_esc(one.metric.label)}</h3>",
            _verdict(one),
            "<h4>Per variant (mean and 95% interval)</h4>",
            _rate_chart(one, result.confidence),
            "<h4>Cumulative relative lift over time (always-valid band)</h4>",
            _lift_chart(one),
            "</div>",
        ]
    parts.append("</section>")
    return "".join(parts)


_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:24px;color:#111}h3{margin-bottom:4px}"
    ".muted{color:#666}.bad{color:#b91c1c}.sig{color:#047857}pre{background:#f5f5f5;padding:8px;"
    "overflow:auto}.metric{border-top:1px solid #ddd;padding-top:8px}"
)


def render_html(
    report: AuditReport, result: Readout | None = None, error: str | None = None
) -> str:
    """One self-contained page: the readout's charts, then the audit as text.

    >>> "<svg" in render_html(AuditReport((), ()))
    False
    """
    title = f"Experiment readout: {result.experiment}" if result else "Experiment audit"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{_esc(title)}</h1>"
        f"{render_panel(result, error)}<h2>Launch audit</h2><pre>{_esc(format_audit(report))}</pre>"
        "</body></html>"
    )
