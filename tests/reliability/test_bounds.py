"""Memory held per message stays near its size: what bounds the queue bounds the process."""

from __future__ import annotations

import tracemalloc

from mixtrack._wire import dumps


def test_serialized_payloads_hold_about_their_own_size():
    message = {
        "event": "Bench event",
        "properties": {"token": "t", "distinct_id": "user-1", "time": 1, "seq": 1, "plan": "pro"},
    }
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        payloads = [dumps(message) for _ in range(2000)]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    size = len(payloads[0])
    # Each queued message is its record: the byte bound counts what memory holds.
    assert held / len(payloads) < size + 200, f"{held / len(payloads):.0f} B held for {size} B"
