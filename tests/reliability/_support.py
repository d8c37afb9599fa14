"""Shared pieces of the reliability suite: the books invariant, sampled while work goes on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mixtrack


def balanced(stats: mixtrack.Stats) -> bool:
    return (
        stats.enqueued == stats.sent + stats.rejected + stats.dropped + stats.pending
        and min(stats.sent, stats.rejected, stats.dropped, stats.pending) >= 0
    )


@contextmanager
def books_checked(client: Any) -> Iterator[list[mixtrack.Stats]]:
    """Reads ``client.stats()`` from another thread, as fast as it can, for the whole block;
    fails the test with the first snapshot that breaks
    ``enqueued == sent + rejected + dropped + pending``."""
    broken: list[mixtrack.Stats] = []
    samples = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            stats = client.stats()
            samples[0] += 1
            if not balanced(stats):
                broken.append(stats)
                return

    thread = threading.Thread(target=sample, name="stats-sampler", daemon=True)
    thread.start()
    try:
        yield broken
    finally:
        stop.set()
        thread.join(5)
    assert not broken, f"stats() out of balance: {broken[0]}"
    assert samples[0] > 0
