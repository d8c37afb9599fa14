"""The values an audit returns: findings, per-variant counts, the sample-ratio test, the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["AuditReport", "ExperimentAudit", "Finding", "SampleRatio", "Severity", "VariantCount"]

Severity = Literal["error", "warning"]
LEVELS: dict[str, int] = {"warning": 1, "warnings": 1, "error": 2, "errors": 2}


@attrs.frozen
class Finding:
    """One problem found, with how many people it touches, examples and how to fix it.

    >>> f = Finding("duplicate_exposure", "error", "checkout", "2 users exposed more than once",
    ...             count=2)
    >>> f.as_json()["severity"]
    'error'
    """

    code: str
    severity: Severity
    experiment: str | None
    message: str
    count: int = 0
    examples: tuple[Mapping[str, Any], ...] = ()
    fix: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "experiment": self.experiment,
            "message": self.message,
            "count": self.count,
            "examples": [dict(e) for e in self.examples],
            "fix": self.fix,
        }


@attrs.frozen
class VariantCount:
    """People first exposed to a variant, all its exposures, and its planned share."""

    users: int
    exposures: int
    share: float
    planned: float | None = None

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class SampleRatio:
    """Pearson's chi-square of users per variant against the planned split.

    ``assumed`` is true when no weights were given and an even split was tested.
    """

    weights: Mapping[str, float]
    observed: Mapping[str, int]
    expected: Mapping[str, float]
    statistic: float
    df: int
    p_value: float
    threshold: float = 0.001
    assumed: bool = False

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.threshold

    def as_json(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "observed": dict(self.observed),
            "expected": dict(self.expected),
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "assumed_even_split": self.assumed,
            "mismatch": self.mismatch,
        }


@attrs.frozen
class ExperimentAudit:
    """The audit of one experiment name."""

    name: str
    users: int
    exposures: int
    variants: Mapping[str, VariantCount]
    srm: SampleRatio | None
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment": self.name,
            "users": self.users,
            "exposures": self.exposures,
            "variants": {name: v.as_json() for name, v in self.variants.items()},
            "sample_ratio": self.srm.as_json() if self.srm else None,
            "findings": [f.as_json() for f in self.findings],
        }


@attrs.frozen
class AuditReport:
    """Every experiment audited, and every finding (including ones tied to no experiment).

    >>> report = AuditReport((), ())
    >>> report.clean, report.fails("warnings")
    (True, False)
    """

    experiments: tuple[ExperimentAudit, ...]
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def clean(self) -> bool:
        return not self.findings

    def fails(self, level: str) -> bool:
        """Whether a finding is at or above ``level`` (``"warnings"`` or ``"errors"``)."""
        if level not in LEVELS:
            raise ValueError(f"level must be 'warnings' or 'errors', got {level!r}")
        return any(LEVELS[f.severity] >= LEVELS[level] for f in self.findings)

    def experiment(self, name: str) -> ExperimentAudit | None:
        """The audit of experiment ``name``, if it had exposures."""
        return next((e for e in self.experiments if e.name == name), None)

    def codes(self) -> set[str]:
        """The finding codes present, e.g. ``{"duplicate_exposure"}``."""
        return {f.code for f in self.findings}

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.errors,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "experiments": [e.as_json() for e in self.experiments],
            "findings": [f.as_json() for f in self.findings],
        }
