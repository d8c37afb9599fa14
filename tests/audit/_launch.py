"""Launches sent through the real SDK: mixtrack.Client and mixtrack.exposure.Experiments."""

from __future__ import annotations

import time

from mixtrack.client import Client
from mixtrack.exposure import Experiments, MemoryLedger
from mixtrack.flags import StaticFlags

EXPERIMENT = "pricing_page_layout"
FLAGS = {EXPERIMENT: {"grid": 50, "list": 50}}


def clean_launch(client: Client, users: int = 60) -> dict[str, str]:
    """Visitors see the page (one exposure each), some buy; returns user -> variant."""
    experiments = Experiments(client, StaticFlags(FLAGS), ledger=MemoryLedger())
    seen = {}
    for i in range(users):
        user = f"shopper-{i}"
        client.track(user, "Page viewed", {"page": "/pricing"})
        variant = experiments.variant(user, EXPERIMENT)
        assert variant.expose()
        assert not variant.expose()  # the ledger keeps it to one
        seen[user] = str(variant.name)
        client.track(user, "Clicked plan", {"layout": variant.name})
        if i % 4 == 0:
            client.track(user, "Order completed", {"revenue": 20.0 + i})
    return seen


def broken_launch(client: Client, users: int = 60) -> None:
    """The clean launch, then a second process with its own memory ledger and a changed split
    exposes the same people again (duplicates, flips), plus exposures without a variant."""
    clean_launch(client, users)
    # A replayed exposure in the same millisecond is a true duplicate that the collector
    # drops (same $insert_id and time): let the clock move on, as it does between requests.
    done = int(time.time() * 1000)
    while int(time.time() * 1000) <= done:
        pass
    changed = StaticFlags({EXPERIMENT: {"grid": 1, "list": 99}})
    other = Experiments(client, changed, ledger=MemoryLedger(), sticky=False)
    for i in range(0, users, 3):
        other.variant(f"shopper-{i}", EXPERIMENT).expose()
    client.track("shopper-1", "$experiment_started", {"Experiment name": EXPERIMENT})
