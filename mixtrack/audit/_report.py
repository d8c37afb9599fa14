"""Readable text for an audit and a readout: what ``mixtrack audit`` and the demo print.

>>> from mixtrack.audit import audit
>>> print(format_audit(audit([])))
Experiment audit
================
No $experiment_started exposures found.
<BLANKLINE>
No problems found.
"""

from __future__ import annotations

import json
from typing import Any

from mixtrack.audit._findings import AuditReport, ExperimentAudit, Finding
from mixtrack.audit._readout import Readout
from mixtrack.audit._readout_text import format_readout, p_text, table

__all__ = ["format_audit", "format_readout", "render_report", "report_json"]


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.2f}%" if signed else f"{value * 100:.1f}%"


def _experiment(one: ExperimentAudit) -> list[str]:
    lines = [f"{one.name}: {one.users} user(s), {one.exposures} exposure(s)"]
    rows = [
        [name, str(v.users), _pct(v.share), _pct(v.planned), str(v.exposures)]
        for name, v in one.variants.items()
    ]
    lines += table(["variant", "users", "share", "planned", "exposures"], rows)
    srm = one.srm
    if srm is not None:
        split = "even split assumed" if srm.assumed else "planned split"
        verdict = "MISMATCH" if srm.mismatch else "ok"
        lines.append(
            f"  sample ratio vs {split}: chi-square {srm.statistic:.2f}, df {srm.df}, "
            f"p = {p_text(srm.p_value)} -> {verdict}"
        )
    return lines


def _finding(finding: Finding) -> list[str]:
    where = f"[{finding.experiment}] " if finding.experiment else ""
    lines = [f"  {finding.severity.upper():<7}  {finding.code}: {where}{finding.message}"]
    for example in finding.examples[:3]:
        lines.append("           e.g. " + json.dumps(example, sort_keys=True, default=str))
    if finding.fix:
        lines.append(f"           fix: {finding.fix}")
    return lines


def format_audit(report: AuditReport) -> str:
    """The audit as text: per-experiment counts and the sample-ratio test, then findings."""
    lines = ["Experiment audit", "================"]
    if not report.experiments:
        lines.append("No $experiment_started exposures found.")
    for one in report.experiments:
        lines += _experiment(one)
    lines.append("")
    if report.clean:
        lines.append("No problems found.")
    else:
        lines.append(f"Findings: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
        for finding in report.findings:
            lines += _finding(finding)
    return "\n".join(lines)


def render_report(report: AuditReport, readout: Readout | None = None) -> str:
    """The audit and, when given, the readout, as ``mixtrack audit`` prints them.

    >>> from mixtrack.audit import audit
    >>> render_report(audit([])).splitlines()[0]
    'Experiment audit'
    """
    text = format_audit(report)
    if readout is not None:
        text += "\n\n" + format_readout(readout)
    return text


def report_json(
    report: AuditReport, readout: Readout | None = None, readout_error: str | None = None
) -> dict[str, Any]:
    """The JSON of ``GET /_mixtrack/audit`` and ``mixtrack audit --json``."""
    out = report.as_json()
    out["readout"] = readout.as_json() if readout is not None else None
    if readout_error is not None:
        out["readout_error"] = readout_error
    return out
