"""Memory held per message stays near its size: what bounds the queue bounds the process."""

from __future__ import annotations

import json
import tracemalloc

from mixtrack._delivery.records import Records, dumps


def test_queued_records_hold_about_their_own_size():
    message = {
        "event": "Bench event",
        "properties": {"token": "t", "distinct_id": "user-1", "time": 1, "seq": 1, "plan": "pro"},
    }
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        records = Records()
        for _ in range(2000):
            records.append(dumps(message))  # orjson's 4 KiB buffers are not kept
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    size = len(dumps(message))
    # a comma and a four-byte offset beside each record, and the buffer's slack
    assert held / len(records) < size * 1.15 + 8, f"{held / len(records):.0f} B held for {size} B"
    assert json.loads(records.body(0, len(records))) == [message] * 2000
