"""Error rates and power of the audit's tests, before and after the sequential-test rework.

    python -m bench.audit_error_rates            # about a minute; prints a Markdown table
    python -m bench.audit_error_rates --runs 500 # quicker, noisier

"Before" is the code of commit 27303f3 (a plug-in per-arm variance and a fixed mixing scale
of 5 percentage points in the mSPRT; a pooled z p-value beside an unpooled interval; no
correction), loaded from git; "after" is the installed ``mixtrack.audit``. Everything is
simulated at the level of counts with a fixed seed, looked at every 2% more users.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import types
from collections.abc import Callable

import numpy as np

from mixtrack.audit import MixtureTest, adjust, compare_proportions

BEFORE = "27303f3"
Looker = Callable[[list[int], list[int], np.ndarray, np.ndarray], float]


def _before_module(path: str) -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:{path}"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(f"before_{path.replace('/', '_')}")
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def looks(share: float, total: int) -> tuple[np.ndarray, np.ndarray]:
    first = 100 / min(share, 1 - share)
    grid = np.unique(np.round(first * 1.02 ** np.arange(1200)).astype(int))
    grid = grid[grid <= total]
    n1 = np.round(grid * share).astype(int)
    return n1, grid - n1


def after_p(a: list[int], b: list[int], n1: np.ndarray, n2: np.ndarray) -> float:
    test = MixtureTest()
    for k in range(len(a)):
        test.look(n1[k], a[k], a[k], n2[k], b[k], b[k])
    return test.p_value


def before_looker() -> Looker:
    old = _before_module("mixtrack/audit/_sequential.py")

    def p(a: list[int], b: list[int], n1: np.ndarray, n2: np.ndarray) -> float:
        seq = [(a[k], int(n1[k]), b[k], int(n2[k])) for k in range(len(a))]
        return float(old.always_valid_p(seq))

    return p


def simulate(
    share: float, base: float, lift: float, total: int, runs: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n1, n2 = looks(share, total)
    x1 = np.cumsum(rng.binomial(np.diff(n1, prepend=0), base * (1 + lift), (runs, len(n1))), 1)
    x2 = np.cumsum(rng.binomial(np.diff(n2, prepend=0), base, (runs, len(n2))), 1)
    return n1, n2, x1, x2


def rates(
    share: float, base: float, lift: float, total: int, runs: int, seed: int
) -> dict[str, float]:
    n1, n2, x1, x2 = simulate(share, base, lift, total, runs, seed)
    before = before_looker()
    old_stats = _before_module("mixtrack/audit/_stats.py")
    out = {"before": 0.0, "after": 0.0, "fixed_before": 0.0, "fixed_after": 0.0}
    for a, b in zip(x1.tolist(), x2.tolist(), strict=True):
        out["before"] += before(a, b, n1, n2) < 0.05
        out["after"] += after_p(a, b, n1, n2) < 0.05
        end = (a[-1], int(n1[-1]), b[-1], int(n2[-1]))
        out["fixed_before"] += old_stats.two_proportion_z(*end).p_value < 0.05
        out["fixed_after"] += compare_proportions(*end).p_value < 0.05
    return {k: v / runs for k, v in out.items()}


def family_wise(runs: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    users, bases = 5000, np.array([0.02, 0.1, 0.3])
    control = rng.binomial(users, bases, (runs, 3))
    treated = rng.binomial(users, bases[None, None, :], (runs, 3, 3))
    hits = {"none": 0.0, "bonferroni": 0.0, "bh": 0.0}
    for r in range(runs):
        ps = [
            compare_proportions(int(treated[r, t, m]), users, int(control[r, m]), users).p_value
            for t in range(3)
            for m in range(3)
        ]
        for method in hits:
            hits[method] += min(adjust(ps, method)) < 0.05
    return {k: v / runs for k, v in hits.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    runs = args.runs
    se = math.sqrt(0.05 * 0.95 / runs)
    print(f"{runs} runs per row (binomial SE at 5%: {se:.2%}); looks every 2% more users\n")
    print(
        "| scenario | users | fixed-horizon before | fixed-horizon after | "
        "always-valid before | always-valid after |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, share, base, lift, total in (
        ("A/A 50/50, 1%", 0.5, 0.01, 0.0, 60_000),
        ("A/A 50/50, 10%", 0.5, 0.10, 0.0, 60_000),
        ("A/A 90/10, 1%", 0.9, 0.01, 0.0, 60_000),
        ("A/A 90/10, 10%", 0.9, 0.10, 0.0, 60_000),
        ("A/A 95/5, 1%", 0.95, 0.01, 0.0, 60_000),
        ("A/A 95/5, 10%", 0.95, 0.10, 0.0, 60_000),
        ("power: 50/50, 1%, +10%", 0.5, 0.01, 0.10, 200_000),
        ("power: 50/50, 10%, +5%", 0.5, 0.10, 0.05, 100_000),
        ("power: 90/10, 10%, +10%", 0.9, 0.10, 0.10, 100_000),
    ):
        n = runs if lift == 0 else max(runs // 4, 100)
        r = rates(share, base, lift, total, n, seed=int(share * 1000 + base * 100 + lift * 10))
        print(
            f"| {label} | {total:,} | {r['fixed_before']:.1%} | {r['fixed_after']:.1%} | "
            f"{r['before']:.1%} | {r['after']:.1%} |"
        )
    fw = family_wise(runs, seed=11)
    print(
        "\nFamily-wise false-positive rate, 3 treatments x 3 metrics, A/A, read once: "
        f"no correction {fw['none']:.1%} (before: the only option), "
        f"Bonferroni {fw['bonferroni']:.1%}, Benjamini-Hochberg {fw['bh']:.1%}"
    )


if __name__ == "__main__":
    main()
