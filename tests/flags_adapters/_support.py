"""Helpers shared by the adapter tests: build Experiments, render pages, check exposures."""

from __future__ import annotations

from typing import Any

from mixtrack.exposure import EXPOSURE_EVENT, Experiments, MemoryLedger, Variant
from mixtrack.flags import FlagProvider
from mixtrack.testing import CapturedEvents


def experiments_for(events: CapturedEvents, flags: FlagProvider, **options: Any) -> Experiments:
    return Experiments(events.client, flags, ledger=MemoryLedger(), **options)


def exposures(events: CapturedEvents) -> list[dict[str, Any]]:
    return events.named(EXPOSURE_EVENT)


def render(experiments: Experiments, distinct_id: str, experiment: str, times: int = 3) -> Variant:
    """What a page does: evaluate, show, expose; ``times`` renders of the same page."""
    variant = experiments.variant(distinct_id, experiment)
    for _ in range(times):
        variant = experiments.variant(distinct_id, experiment)
        variant.expose()
    return variant


def assert_exposed_once(
    events: CapturedEvents,
    distinct_id: str,
    experiment: str,
    variant: str,
    provider: str,
    **metadata: Any,
) -> dict[str, Any]:
    """Exactly one exposure of ``distinct_id``, with the names unchanged."""
    found = [e for e in exposures(events) if e["properties"]["distinct_id"] == distinct_id]
    assert len(found) == 1, events.describe()
    properties = found[0]["properties"]
    assert properties["Experiment name"] == experiment
    assert properties["Variant name"] == variant
    assert properties["Flag provider"] == provider
    for key, value in metadata.items():
        assert properties[key] == value, (key, properties)
    return properties
