"""Targets for the processes of the spool tests (importable by name, for forkserver)."""

from __future__ import annotations

import os
from typing import Any

import mixtrack


def start_and_track(spool_dir: str, api_host: str, tag: str, barrier: Any, crash: bool) -> None:
    """One process: starts a client together with the others, tracks, then exits cleanly
    or dies with its spool left behind (an orphan for the next round to adopt)."""
    barrier.wait(60)
    client = mixtrack.Client(
        "tok", api_host=api_host, spool_dir=spool_dir, flush_interval=0.05, max_backoff=0.1
    )
    for n in range(5):
        client.track("user", "Started", {"tag": f"{tag}-{n}"})
    if crash:
        os._exit(0)  # no shutdown: the spool stays for adoption
    client.shutdown(timeout=5)
