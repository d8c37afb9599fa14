"""An asyncio job consumer: workers take jobs from a queue and record their outcome.

The jobs are simulated (an ``asyncio.Queue`` filled by a producer); in a real service they
would come from Redis, SQS or Kafka. What matters is the tracking: ``client.track()`` is a
plain call inside the coroutines, it never awaits the network, and one background task
delivers the events.

    python -m examples.asyncio_worker --jobs 200 --api-host http://127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

import mixtrack


async def produce(queue: asyncio.Queue[dict[str, object] | None], jobs: int, workers: int) -> None:
    for n in range(jobs):
        await queue.put(
            {
                "id": f"job-{n}",
                "user": f"user-{n % 40}",
                "kind": random.choice(["resize-image", "send-invoice", "sync-crm"]),
            }
        )
    for _ in range(workers):
        await queue.put(None)  # one stop signal per worker


async def work(
    name: str,
    queue: asyncio.Queue[dict[str, object] | None],
    client: mixtrack.AsyncClient,
    failure_rate: float,
) -> int:
    done = 0
    while (job := await queue.get()) is not None:
        started = time.perf_counter()
        await asyncio.sleep(random.uniform(0, 0.005))  # the job's real work
        ok = random.random() >= failure_rate
        with mixtrack.context(distinct_id=str(job["user"]), worker=name):
            client.track(
                None,
                "Job finished" if ok else "Job failed",
                {
                    "job_id": job["id"],
                    "kind": job["kind"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )
        done += 1
    return done


async def main(jobs: int, workers: int, api_host: str, token: str, failure_rate: float) -> int:
    queue: asyncio.Queue[dict[str, object] | None] = asyncio.Queue(maxsize=100)
    async with mixtrack.AsyncClient(token, api_host=api_host, flush_interval=0.2) as client:
        producer = asyncio.create_task(produce(queue, jobs, workers))
        counts = await asyncio.gather(
            *(work(f"worker-{i}", queue, client, failure_rate) for i in range(workers))
        )
        await producer
        delivered = await client.flush(timeout=10)
        stats = client.stats()
    print(
        f"processed {sum(counts)} jobs with {workers} workers; "
        f"events sent={stats.sent} dropped={stats.dropped} delivered={bool(delivered)}"
    )
    return 0 if delivered and stats.sent == jobs else 1


def cli() -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.asyncio_worker")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--failure-rate", type=float, default=0.1)
    parser.add_argument(
        "--api-host", default=os.environ.get("MIXTRACK_API_HOST", "http://127.0.0.1:8765")
    )
    parser.add_argument("--token", default=os.environ.get("MIXTRACK_TOKEN", "worker-demo-token"))
    args = parser.parse_args()
    return asyncio.run(main(args.jobs, args.workers, args.api_host, args.token, args.failure_rate))


if __name__ == "__main__":
    raise SystemExit(cli())
