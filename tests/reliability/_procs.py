"""Targets for ``multiprocessing`` children (importable by name, for the spawn start method)."""

from __future__ import annotations

import os
from typing import Any

import mixtrack


def spawned_child(api_host: str, tag: str, count: int) -> None:
    client = mixtrack.Client("reliability-token", api_host=api_host, flush_interval=0.05)
    for seq in range(count):
        properties = {"tag": tag, "seq": seq, "pid": os.getpid()}
        client.track(f"{tag}-{seq % 7}", "Child event", properties)
    if not client.shutdown(10):
        raise SystemExit(3)


def forked_child(client: Any, tag: str, count: int) -> None:
    """Runs in a forked child on the parent's client object (re-created by the fork hook)."""
    for seq in range(count):
        properties = {"tag": tag, "seq": seq, "pid": os.getpid()}
        client.track(f"{tag}-{seq % 7}", "Child event", properties)
    # multiprocessing children leave through os._exit: atexit does not run, so flush here.
    if not client.flush(10):
        raise SystemExit(3)
