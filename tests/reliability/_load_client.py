"""One load process: tracks at a steady rate for a while, then prints its books as JSON."""

from __future__ import annotations

import json
import sys
import time

import mixtrack


def main() -> None:
    api_host, tag, seconds, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    client = mixtrack.Client("load-token", api_host=api_host, flush_interval=0.1, batch_size=200)
    started = time.monotonic()
    seq = 0
    while (now := time.monotonic()) - started < seconds:
        due = int((now - started) * rate)
        while seq < due:
            client.track(f"{tag}-{seq % 50}", "Load", {"tag": tag, "seq": seq, "plan": "pro"})
            seq += 1
        time.sleep(0.005)
    client.shutdown(20)
    stats = client.stats()
    print(json.dumps({"tag": tag, "enqueued": stats.enqueued, "sent": stats.sent,
                      "rejected": stats.rejected, "dropped": stats.dropped}))


if __name__ == "__main__":
    main()
