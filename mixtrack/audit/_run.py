"""One audit run from options, shared by ``GET /_mixtrack/audit`` and ``mixtrack audit``.

>>> result = run_audit([], AuditOptions(metric="Order completed"))
>>> result.report.clean, result.readout, result.readout_error
(True, None, 'choose an experiment: the events expose none')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mixtrack.audit._checks import Plan, audit
from mixtrack.audit._findings import AuditReport, Finding
from mixtrack.audit._metrics import DEFAULT_WINDOW, Metric, parse_metric
from mixtrack.audit._plan import parse_weights, weights_from_flags
from mixtrack.audit._readout import Readout, readout
from mixtrack.audit._report import render_report, report_json
from mixtrack.audit._sequential import DEFAULT_MIN_USERS, DEFAULT_RELATIVE_TAU
from mixtrack.audit._stream import Event, Identity
from mixtrack.audit._unseen import Unseen, format_unseen, unseen

if TYPE_CHECKING:
    from mixtrack.plan import Plan as TrackingPlan

__all__ = ["AuditOptions", "AuditResult", "parse_plan", "run_audit"]


@attrs.frozen
class AuditOptions:
    """What to audit and read out; every field is optional.

    ``metric`` (an event, or a metric's text form) is the primary metric, and
    ``value_property`` adds the sum of that property on it; ``metrics`` lists more (tagged
    with their roles). See :func:`mixtrack.audit.readout` for the rest.
    """

    experiment: str | None = None
    metric: str | None = None
    value_property: str | None = None
    control: str | None = None
    weights: Plan | None = None
    srm_threshold: float = 0.001
    metrics: tuple[Metric, ...] = ()
    correction: str = "none"
    sequential_tau: float = DEFAULT_RELATIVE_TAU
    sequential_min_users: int = DEFAULT_MIN_USERS
    window: float = DEFAULT_WINDOW
    #: A tracking plan: events off it are findings (``off_plan_event``, ``off_plan_property``).
    tracking_plan: TrackingPlan | None = None
    #: Whether those findings are errors (else warnings).
    strict_plan: bool = False

    def all_metrics(self) -> list[Metric]:
        """The metrics to read out, the primary one first."""
        found = [parse_metric(self.metric)] if self.metric else []
        if self.metric and self.value_property:
            found.append(Metric(found[0].event, "sum", self.value_property, "secondary"))
        found += self.metrics
        primaries = [m for m in found if m.role == "primary"]
        return primaries + [m for m in found if m.role != "primary"]

    def asked(self) -> list[tuple[str, str]]:
        """Each metric's event with the option that named it:
        ``("Refunded", "--guardrail")``."""
        option = {"primary": "--metric", "guardrail": "--guardrail", "secondary": "--secondary"}
        return [(m.event, option[m.role]) for m in self.all_metrics()]


@attrs.frozen
class AuditResult:
    """The audit, the readout when a metric was asked for, and why a readout failed."""

    report: AuditReport
    readout: Readout | None = None
    readout_error: str | None = None
    #: Per experiment exposed when visible: rendered people who never saw the variant.
    unseen: Mapping[str, Unseen] = attrs.field(factory=dict)

    def fails(self, level: str) -> bool:
        """Whether the audit or a guardrail fails at ``level`` (``errors``/``warnings``)."""
        return self.report.fails(level)

    def html(self) -> str:
        """The report as one self-contained HTML page."""
        from mixtrack.audit._html import render_html

        return render_html(self.report, self.readout, self.readout_error)

    def text(self) -> str:
        text = render_report(self.report, self.readout)
        if self.unseen:
            text += "\n\n" + format_unseen(self.unseen)
        if self.readout_error:
            text += f"\n\nNo readout: {self.readout_error}"
        return text

    def as_json(self) -> dict[str, Any]:
        out = report_json(self.report, self.readout, self.readout_error)
        out["unseen"] = {name: one.as_json() for name, one in self.unseen.items()}
        return out


def parse_plan(weights: str | None = None, flags: str | None = None) -> Plan | None:
    """Planned weights from ``control=50,treatment=50`` (or a JSON object), or a flags file."""
    if weights:
        text = weights.strip()
        if text.startswith("{"):
            loaded = json.loads(text)
            if not isinstance(loaded, Mapping):
                raise ValueError(f"weights must be a JSON object, got {text!r}")
            return loaded
        return parse_weights(text)
    if flags:
        return weights_from_flags(flags)
    return None


def run_audit(
    events: Iterable[Event], options: AuditOptions, identity: Identity | None = None
) -> AuditResult:
    """Audit ``events`` and, with ``options.metric``, read the experiment out."""
    events = list(events)
    report = audit(
        events,
        experiment=options.experiment,
        weights=options.weights,
        identity=identity,
        srm_threshold=options.srm_threshold,
    )
    if options.tracking_plan is not None:
        from mixtrack.audit._tracking_plan import plan_findings

        found = plan_findings(events, options.tracking_plan, strict=options.strict_plan)
        report = attrs.evolve(report, findings=(*report.findings, *found))
    never = {
        name: one
        for name, one in unseen(events, identity).items()
        if options.experiment is None or name == options.experiment
    }
    metrics = options.all_metrics()
    if not metrics:
        return AuditResult(report, unseen=never)
    try:
        result = readout(
            events,
            metrics,
            experiment=options.experiment,
            control=options.control,
            identity=identity,
            correction=options.correction,
            relative_tau=options.sequential_tau,
            min_users=options.sequential_min_users,
            window=options.window,
        )
    except ValueError as exc:
        return AuditResult(report, None, str(exc), unseen=never)
    regressions = [
        Finding(
            "guardrail_regression",
            "error",
            result.experiment,
            f"guardrail {metric.name!r} is significantly worse in {variant.variant!r} "
            f"than in {result.control!r} (adjusted p = {variant.versus_control.p_adjusted:.2g})",
            count=variant.users,
            fix="Don't ship this variant as it is: find out why it hurts the guardrail.",
        )
        for metric, variant in result.regressions()
        if variant.versus_control is not None
    ]
    if regressions:
        report = attrs.evolve(report, findings=(*report.findings, *regressions))
    return AuditResult(report, result, unseen=never)
