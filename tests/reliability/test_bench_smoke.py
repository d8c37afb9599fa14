"""``python -m bench --quick`` runs and writes the documented JSON (structure only: timings
on a shared test machine prove nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_writes_the_summary(tmp_path):
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--scenario",
            "latency",
            "--libraries",
            "mixtrack,mixpanel-buffered",
            "--no-chart",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(output.read_text())
    assert {"date", "machine", "versions", "summary", "targets", "runs"} <= set(doc)
    assert doc["quick"] is True
    assert doc["machine"]["nproc"] >= 1 and doc["machine"]["python"]
    for library in ("mixtrack", "mixpanel-buffered"):
        run = doc["runs"]["latency"][library]
        assert run["status"] == "ok", run
        assert {"median_us", "p99_us", "calls", "version"} <= set(run)
    median = doc["summary"]["latency_median"]
    assert median["best_peer"] == "mixpanel-buffered"
    assert median["mixtrack_vs_best_peer"] > 0
    assert any(t["target"].startswith("track() median") for t in doc["targets"])
    assert output.with_suffix(".md").read_text().startswith("| metric |")


def test_latency_rounds_keep_each_librarys_middle_round_and_surface_a_failed_one():
    from bench.__main__ import middle

    rounds = [
        {"status": "ok", "median_us": 5.4, "p99_us": 13.7},
        {"status": "ok", "median_us": 3.4, "p99_us": 12.1},
        {"status": "ok", "median_us": 3.3, "p99_us": 10.8},
    ]
    kept = middle(rounds)
    assert (kept["median_us"], kept["p99_us"]) == (3.4, 12.1)  # one round's figures, whole
    assert kept["round_medians_us"] == [5.4, 3.4, 3.3]
    failed = {"status": "blocked", "after_s": 60}
    assert middle([rounds[0], failed, rounds[2]]) is failed
    assert middle([rounds[0]]) is rounds[0]
