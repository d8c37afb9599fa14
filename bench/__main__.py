"""Side-by-side benchmarks: mixtrack against mixpanel-python, Segment and PostHog.

    python -m bench                    # everything, a few minutes
    python -m bench --quick            # small counts: a smoke run
    python -m bench --scenario latency --libraries mixtrack,segment

One sink process (``bench.sink``) serves every library on 127.0.0.1; each library runs each
scenario in a fresh process of its own (``bench.runner``), one at a time, so no two share a
GIL or an RSS figure. Prints a table, writes ``bench/results/latest.json``, ``latest.md``
and ``latest.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import report
from bench.libs import LIBRARIES, VARIANTS

RESULTS = Path(__file__).parent / "results"

# Events per run, per library: enough for a stable figure, small enough to finish in seconds
# for the slow ones. (full, quick)
COUNTS: dict[str, dict[str, tuple[int, int]]] = {
    "latency": {
        "mixtrack": (100_000, 5_000),
        "mixtrack-spool": (100_000, 5_000),
        "mixpanel-consumer": (2_000, 200),
        "mixpanel-buffered": (20_000, 1_000),
        "segment": (50_000, 2_000),
        "posthog": (20_000, 1_000),
    },
    "throughput": {
        "mixtrack": (100_000, 5_000),
        "mixpanel-consumer": (3_000, 200),
        "mixpanel-buffered": (30_000, 1_000),
        "segment": (50_000, 2_000),
        "posthog": (20_000, 1_000),
    },
    "throughput_30ms": {
        "mixtrack": (100_000, 5_000),
        "mixpanel-consumer": (100, 20),
        "mixpanel-buffered": (3_000, 200),
        "segment": (5_000, 500),
        "posthog": (5_000, 500),
    },
    "memory": dict.fromkeys(LIBRARIES, (1_000_000, 20_000)),
    "exit": dict.fromkeys(LIBRARIES, (10_000, 1_000)),
    "outage": dict.fromkeys(LIBRARIES, (9_000, 500)),
}
#: Longest a run may take before it is reported as blocked (seconds): full, quick.
CAPS = {
    "latency": (60, 20),
    "throughput": (60, 20),
    "throughput_30ms": (30, 15),
    "memory": (20, 10),
    "exit": (12, 5),
    "outage": (60, 20),
}
SCENARIOS = [*COUNTS, "collector"]
EXIT_BUDGET = 2.0
#: Rounds of the latency scenario (full, quick). A shared machine slows down and speeds up for
#: seconds at a time, so one run per library can set a fast run of one against a slow run of
#: another: the libraries take turns, round after round, and each keeps its middle round.
LATENCY_ROUNDS = (3, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SinkProcess:
    def __init__(self) -> None:
        self.port, control_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.control = f"http://127.0.0.1:{control_port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.sink",
                "--port",
                str(self.port),
                "--control-port",
                str(control_port),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the bench sink did not start")

    def call(self, route: str, method: str = "POST") -> dict[str, Any]:
        request = urllib.request.Request(self.control + route, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def middle(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the middle median of a library's latency rounds, with every round's
    median beside it; a single run as it is.

    >>> middle([{"median_us": 3.0}, {"median_us": 5.0}, {"median_us": 4.0}])
    {'median_us': 4.0, 'round_medians_us': [3.0, 5.0, 4.0]}
    """
    if len(runs) == 1:
        return runs[0]
    if any(run.get("median_us") is None for run in runs):
        return next((run for run in runs if run.get("median_us") is None), runs[0])
    chosen = sorted(runs, key=lambda run: run["median_us"])[len(runs) // 2]
    return {**chosen, "round_medians_us": [run["median_us"] for run in runs]}


def run_one(
    sink: SinkProcess, library: str, scenario: str, n: int, cap: float, *, quick: bool = False
) -> dict[str, Any]:
    sink.call("/mode?name=normal")
    sink.call("/reset")
    if scenario == "throughput_30ms":
        sink.call("/mode?name=delay&seconds=0.03")
    runner_scenario = scenario
    queue = n if scenario in ("latency", "throughput", "throughput_30ms") else None
    command = [
        sys.executable,
        "-m",
        "bench.runner",
        library,
        runner_scenario,
        "--url",
        sink.url,
        "--control",
        sink.control,
        "-n",
        str(n),
        "--cap",
        str(cap),
        "--budget",
        str(EXIT_BUDGET),
        "--outage",
        str(1.0 if quick else 5.0),
    ]
    if queue:
        command += ["--queue", str(queue)]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        out, err = proc.communicate(timeout=cap + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    exited = time.monotonic()
    result: dict[str, Any] = {"status": "error", "stderr": err[-2000:]}
    marks: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        doc = json.loads(line)
        if "shutdown_at" in doc or "shutdown_returned_at" in doc:
            marks.update(doc)
        else:
            result = doc
    if scenario == "exit" and "shutdown_at" in marks:
        # from the call to shutdown() until the process is gone, atexit and teardown included
        result["exit_s"] = exited - marks["shutdown_at"]
        if "shutdown_returned_at" in marks:
            result["shutdown_s"] = marks["shutdown_returned_at"] - marks["shutdown_at"]
    result["wall_s"] = exited - started
    sink.call("/mode?name=normal")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument(
        "--libraries",
        default=",".join(LIBRARIES + VARIANTS),
        help=f"comma-separated subset of {', '.join(LIBRARIES + VARIANTS)}",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)

    index = 1 if args.quick else 0
    wanted = [name.strip() for name in args.libraries.split(",") if name.strip()]
    scenarios = args.scenario or SCENARIOS
    results: dict[str, dict[str, Any]] = {}
    sink = SinkProcess()
    try:
        for scenario in scenarios:
            if scenario == "collector":
                continue
            rounds: dict[str, list[dict[str, Any]]] = {}
            for _ in range(LATENCY_ROUNDS[index] if scenario == "latency" else 1):
                for library, counts in COUNTS[scenario].items():
                    if library not in wanted:
                        continue
                    result = run_one(
                        sink,
                        library,
                        scenario,
                        counts[index],
                        CAPS[scenario][index],
                        quick=args.quick,
                    )
                    rounds.setdefault(library, []).append(result)
                    print(
                        f"  {scenario:<16} {library:<18} {report.brief(scenario, result)}",
                        flush=True,
                    )
            results[scenario] = {library: middle(runs) for library, runs in rounds.items()}
    finally:
        sink.stop()
    if "collector" in scenarios:
        from bench.collector_ingest import measure

        events = 20_000 if args.quick else 150_000
        results["collector"] = {"mixtrack": {"status": "ok", **measure(events, 50, 3)}}
        print(
            f"  collector ingest  {results['collector']['mixtrack']['events_per_s']:,.0f} events/s",
            flush=True,
        )

    doc = report.build(results, quick=args.quick, exit_budget=EXIT_BUDGET)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=2))
    table = report.markdown(doc)
    args.output.with_suffix(".md").write_text(table)
    print()
    print(table)
    if not args.no_chart:
        report.chart(doc, args.output.with_suffix(".png"))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
