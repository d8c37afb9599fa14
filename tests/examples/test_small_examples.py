"""The small examples run as their READMEs say, against the real collector."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_asyncio_worker(mixtrack_collector):
    result = run(
        "-m",
        "examples.asyncio_worker",
        "--jobs",
        "120",
        "--workers",
        "6",
        "--api-host",
        mixtrack_collector.url,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "processed 120 jobs with 6 workers" in result.stdout
    finished = mixtrack_collector.events("Job finished")
    failed = mixtrack_collector.events("Job failed")
    assert len(finished) + len(failed) == 120
    workers = {e["properties"]["worker"] for e in finished + failed}
    assert workers <= {f"worker-{i}" for i in range(6)} and len(workers) > 1
    assert all(e["properties"]["distinct_id"].startswith("user-") for e in finished + failed)


def test_import_csv(tmp_path, mixtrack_collector):
    orders = tmp_path / "orders.csv"
    made = run("-m", "examples.import_csv.make_orders", str(orders), "--rows", "3000")
    assert made.returncode == 0, made.stderr
    result = run(
        "-m",
        "mixtrack.cli",
        "import",
        str(orders),
        "--token",
        "shop-demo-token",
        "--api-host",
        mixtrack_collector.url,
        "--event-column",
        "action",
        "--distinct-id-column",
        "customer",
        "--time-column",
        "ordered_at",
        "--time-format",
        "%d/%m/%Y %H:%M",
    )
    # The export has a few lines without a date: they are refused, and the exit status says so.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "imported:         3,000" in result.stdout
    assert "rejected:         3" in result.stdout
    assert "3 row(s) refused (reasons above)" in result.stderr
    stored = mixtrack_collector.events("Order completed")
    assert len(stored) == 3000
    assert {"product", "amount", "country"} <= set(stored[0]["properties"])
    assert all(isinstance(e["properties"]["amount"], (int, float)) for e in stored)
