"""Validate an experiment launch and read it out: pure functions over a stream of events.

The events are dicts ``{"event": ..., "properties": {...}}`` in arrival order, as
``mixtrack.testing.Collector.events()`` or ``GET /_mixtrack/events`` return them.

>>> from mixtrack.audit import audit, readout, render_report
>>> events = collector.events()  # doctest: +SKIP
>>> report = audit(events, experiment="pricing_page_layout", weights={"grid": 50, "list": 50})
... # doctest: +SKIP
>>> result = readout(events, ["Order completed", "Order completed:sum(revenue)",
...                  Metric("Refund requested", role="guardrail", good="lower")],
...                  experiment="pricing_page_layout", correction="bh")  # doctest: +SKIP
>>> print(render_report(report, result))  # doctest: +SKIP
>>> report.fails("errors")  # doctest: +SKIP
False

Findings (:class:`Finding`, ``code`` and ``severity``): errors are ``duplicate_exposure``,
``missing_experiment_name``, ``missing_variant_name``, ``variant_flip`` and
``sample_ratio_mismatch``; warnings are ``inconsistent_experiment_names``,
``inconsistent_variant_names``, ``unjoined_identity``, ``no_later_activity`` and
``unplanned_variant``. The collector serves the same as ``GET /_mixtrack/audit``; the command
line as ``mixtrack audit``.
"""

from __future__ import annotations

from mixtrack.audit._checks import Plan, audit
from mixtrack.audit._corrections import CORRECTIONS, adjust
from mixtrack.audit._findings import (
    AuditReport,
    ExperimentAudit,
    Finding,
    SampleRatio,
    Severity,
    VariantCount,
)
from mixtrack.audit._fixed import Difference, compare_means, compare_proportions
from mixtrack.audit._html import render_html, render_panel
from mixtrack.audit._metrics import Metric, parse_metric
from mixtrack.audit._plan import parse_weights, weights_from_flags
from mixtrack.audit._readout import (
    PEEKING_WARNING,
    Comparison,
    MetricResult,
    Readout,
    VariantResult,
    readout,
)
from mixtrack.audit._report import format_audit, format_readout, render_report
from mixtrack.audit._run import AuditOptions, AuditResult, run_audit
from mixtrack.audit._sequential import MixtureTest, mixture_p
from mixtrack.audit._source import from_collector, from_db, from_store
from mixtrack.audit._stream import (
    Identity,
    identity_from_clusters,
    identity_from_events,
    identity_from_links,
    looks_anonymous,
    name_key,
)
from mixtrack.audit._unseen import Unseen, unseen

__all__ = [
    "CORRECTIONS",
    "PEEKING_WARNING",
    "AuditOptions",
    "AuditReport",
    "AuditResult",
    "Comparison",
    "Difference",
    "ExperimentAudit",
    "Finding",
    "Identity",
    "Metric",
    "MetricResult",
    "MixtureTest",
    "Plan",
    "Readout",
    "SampleRatio",
    "Severity",
    "Unseen",
    "VariantCount",
    "VariantResult",
    "adjust",
    "audit",
    "compare_means",
    "compare_proportions",
    "format_audit",
    "format_readout",
    "from_collector",
    "from_db",
    "from_store",
    "identity_from_clusters",
    "identity_from_events",
    "identity_from_links",
    "looks_anonymous",
    "mixture_p",
    "name_key",
    "parse_metric",
    "parse_weights",
    "readout",
    "render_html",
    "render_panel",
    "render_report",
    "run_audit",
    "unseen",
    "weights_from_flags",
]
