"""Turns raw runs into the summary: a table, ratios to the best peer, targets, a chart."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.libs import LIBRARIES

PEERS = [name for name in LIBRARIES if name != "mixtrack"]
COLUMNS = ["mixtrack", *PEERS]

# (key, label, scenario, field, lower is better, unit)
METRICS: list[tuple[str, str, str, str, bool, str]] = [
    ("latency_median", "track() median", "latency", "median_us", True, "µs"),
    ("latency_p99", "track() p99", "latency", "p99_us", True, "µs"),
    ("throughput", "end-to-end", "throughput", "events_per_s", False, "ev/s"),
    ("throughput_30ms", "end-to-end, 30 ms sink", "throughput_30ms", "events_per_s", False, "ev/s"),
    ("memory", "RSS growth, 1M calls, hung sink", "memory", "growth_mb", True, "MB"),
    (
        "memory_per_event",
        "RSS per queued event, hung sink",
        "memory",
        "bytes_per_queued",
        True,
        "B",
    ),
    (
        "cpu_per_event",
        "CPU per delivered event, all threads",
        "throughput",
        "cpu_us_per_event",
        True,
        "µs",
    ),
    ("shutdown", "shutdown() returns, 10k pending, hung sink", "exit", "shutdown_s", True, "s"),
    ("exit", "process exit, 10k pending, hung sink", "exit", "exit_s", True, "s"),
    ("loss", "lost in a 5 s outage", "outage", "lost", True, "events"),
]


def _value(result: dict[str, Any] | None, field: str) -> float | None:
    if not result or result.get("status") != "ok":
        return None
    value = result.get(field)
    return None if value is None else float(value)


def brief(scenario: str, result: dict[str, Any]) -> str:
    """One line for the progress output."""
    if result.get("status") != "ok":
        return f"{result.get('status')} after {result.get('after_s', result.get('wall_s', 0)):.0f}s"
    fields = {
        "latency": ("median_us", "p99_us"),
        "throughput": ("events_per_s", "cpu_us_per_event"),
        "throughput_30ms": ("events_per_s", "received"),
        "memory": ("growth_mb", "bytes_per_queued"),
        "exit": ("exit_s", "pending"),
        "outage": ("lost", "duplicates"),
    }[scenario]
    return ", ".join(f"{name}={result.get(name) or 0:,.2f}" for name in fields)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def versions() -> dict[str, str]:
    found = {}
    for dist in ("mixtrack", "mixpanel", "segment-analytics-python", "posthog", "orjson", "httpx"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def build(results: dict[str, dict[str, Any]], *, quick: bool, exit_budget: float) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for key, label, scenario, field, lower, unit in METRICS:
        runs = results.get(scenario)
        if not runs:
            continue
        values = {lib: _value(runs.get(lib), field) for lib in COLUMNS if lib in runs}
        peers = {lib: v for lib, v in values.items() if lib in PEERS and v is not None}
        best = (min if lower else max)(peers, key=lambda lib: peers[lib]) if peers else None
        mine = values.get("mixtrack")
        ratio = None
        if best is not None and mine is not None:
            theirs = peers[best]
            if lower:
                ratio = theirs / mine if mine > 0 else None
            else:
                ratio = mine / theirs if theirs > 0 else None
        summary[key] = {
            "label": label,
            "unit": unit,
            "lower_is_better": lower,
            "values": values,
            "best_peer": best,
            "best_peer_value": peers.get(best) if best else None,
            "mixtrack_vs_best_peer": ratio,
        }
    if "latency" in results and "mixtrack-spool" in results["latency"]:
        summary["latency_median_spool"] = {
            "label": "track() median, spool on (fsync none)",
            "unit": "µs",
            "values": {"mixtrack": _value(results["latency"]["mixtrack-spool"], "median_us")},
            "p99": _value(results["latency"]["mixtrack-spool"], "p99_us"),
        }
    if "collector" in results:
        summary["collector"] = {
            "label": "collector ingest, SQLite, 50-event gzip batches",
            "unit": "ev/s",
            "values": {"mixtrack": _value(results["collector"]["mixtrack"], "events_per_s")},
        }
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "versions": versions(),
        "exit_budget_s": exit_budget,
        "summary": summary,
        "targets": targets(summary, exit_budget),
        "runs": results,
    }


def targets(summary: dict[str, Any], exit_budget: float) -> list[dict[str, Any]]:
    import mixtrack

    queue_mb = mixtrack.Config(token="x").max_queue_bytes / 2**20

    def mine(key: str) -> float | None:
        entry = summary.get(key)
        return None if entry is None else entry["values"].get("mixtrack")

    def ratio(key: str) -> float | None:
        entry = summary.get(key)
        return None if entry is None else entry.get("mixtrack_vs_best_peer")

    checks = [
        ("track() median ≤ 5 µs", mine("latency_median"), lambda v: v <= 5),
        (
            "track() median ≤ 0.4x best peer's (peer's over mixtrack's ≥ 2.5)",
            ratio("latency_median"),
            lambda v: v >= 2.5,
        ),
        ("track() p99 ≤ 50 µs", mine("latency_p99"), lambda v: v <= 50),
        ("track() median with spool ≤ 15 µs", mine("latency_median_spool"), lambda v: v <= 15),
        ("end-to-end ≥ 50,000 ev/s", mine("throughput"), lambda v: v >= 50_000),
        ("end-to-end ≥ 3x best peer", ratio("throughput"), lambda v: v >= 3),
        ("30 ms sink: ≥ 10x best peer", ratio("throughput_30ms"), lambda v: v >= 10),
        (
            f"RSS growth ≤ max_queue_bytes + 20 MB ({queue_mb + 20:.0f} MB)",
            mine("memory"),
            lambda v: v <= queue_mb + 20,
        ),
        (
            f"shutdown() returns ≤ budget + 0.1 s ({exit_budget + 0.1:.1f} s)",
            mine("shutdown"),
            lambda v: v <= exit_budget + 0.1,
        ),
        (
            f"process exit ≤ budget + 0.1 s ({exit_budget + 0.1:.1f} s)",
            mine("exit"),
            lambda v: v <= exit_budget + 0.1,
        ),
        ("zero loss across a 5 s outage", mine("loss"), lambda v: v == 0),
        ("RSS per queued event ≤ 300 B", mine("memory_per_event"), lambda v: v <= 300),
        (
            "CPU per delivered event ≤ 0.15x best peer's (peer's over mixtrack's ≥ 6.7)",
            ratio("cpu_per_event"),
            lambda v: v >= 1 / 0.15,
        ),
        ("collector ingest ≥ 30,000 ev/s", mine("collector"), lambda v: v >= 30_000),
    ]
    return [
        {"target": name, "value": value, "met": None if value is None else bool(check(value))}
        for name, value, check in checks
    ]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ev/s":
        return f"{value:,.0f}"
    if unit in ("events", "B"):
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _cell(doc: dict[str, Any], key: str, lib: str) -> str:
    entry = doc["summary"][key]
    value = entry["values"].get(lib)
    if value is not None:
        return _fmt(value, entry["unit"])
    scenario = next(m[2] for m in METRICS if m[0] == key)
    run = doc["runs"].get(scenario, {}).get(lib)
    if run is None:
        return "—"
    if run.get("status") == "blocked":
        return f"blocks in {run.get('blocked_in', '?')} (>{run['after_s']:.0f} s)"
    return str(run.get("status"))


def markdown(doc: dict[str, Any]) -> str:
    head = ["metric", *COLUMNS, "mixtrack vs best peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, _, _, _, unit in METRICS:
        entry = doc["summary"].get(key)
        if entry is None:
            continue
        ratio = entry["mixtrack_vs_best_peer"]
        if ratio is not None:
            best = f"{ratio:,.1f}x {'better' if ratio >= 1 else 'worse'} ({entry['best_peer']})"
        elif entry["best_peer"] is not None:
            best = f"{entry['best_peer']}: {_fmt(entry['best_peer_value'], unit)}"
        else:
            best = "—"
        cells = [_cell(doc, key, lib) for lib in COLUMNS]
        if key == "memory":
            runs = doc["runs"].get("memory", {})
            cells = [
                f"{cell} ({runs[lib]['calls']:,} calls)"
                if lib in runs
                and runs[lib].get("status") == "ok"
                and runs[lib].get("calls", 0) < 1_000_000
                else cell
                for cell, lib in zip(cells, COLUMNS, strict=True)
            ]
        lines.append(f"| {label} ({unit}) | " + " | ".join(cells) + f" | {best} |")
    extra = []
    spool = doc["summary"].get("latency_median_spool")
    if spool:
        extra.append(
            f"- mixtrack `track()` with the spool on (fsync none): median "
            f"{_fmt(spool['values']['mixtrack'], 'µs')} µs, p99 {_fmt(spool['p99'], 'µs')} µs"
        )
    collector = doc["summary"].get("collector")
    if collector:
        extra.append(
            f"- collector ingest (SQLite, 50-event gzip batches): "
            f"{_fmt(collector['values']['mixtrack'], 'ev/s')} events/s"
        )
    lines += ["", *extra, "", "| target | mixtrack | met |", "|---|---|---|"]
    for target in doc["targets"]:
        met = {True: "yes", False: "**no**", None: "not run"}[target["met"]]
        value = "—" if target["value"] is None else f"{target['value']:,.2f}"
        lines.append(f"| {target['target']} | {value} | {met} |")
    m = doc["machine"]
    lines += [
        "",
        f"{doc['date']}; {m['nproc']} x {m['cpu']}; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in doc["versions"].items())
        + ("; QUICK RUN (small counts)" if doc["quick"] else ""),
    ]
    return "\n".join(lines) + "\n"


def chart(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [m for m in METRICS if m[0] in doc["summary"]]
    if not keys:
        return
    cols = 4
    rows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    colours = ["#d62728", "#7f7f7f", "#9e9e9e", "#1f77b4", "#2ca02c"]
    for ax, (key, label, _, _, lower, unit) in zip(axes.flat, keys, strict=False):
        values = doc["summary"][key]["values"]
        names = [lib for lib in COLUMNS if values.get(lib) is not None]
        heights = [max(values[lib], 1e-3) for lib in names]
        ax.bar(names, heights, color=[colours[COLUMNS.index(n)] for n in names])
        if heights and max(heights) / max(min(heights), 1e-3) > 50:
            ax.set_yscale("log")
        ax.set_title(f"{label}\n({unit}, {'lower' if lower else 'higher'} is better)", fontsize=9)
        ax.tick_params(axis="x", labelrotation=35, labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.suptitle(f"mixtrack vs peers — {doc['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
