"""``mixtrack audit`` gates a release: non-zero on a broken launch, 0 on a clean one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mixtrack.cli import main
from mixtrack.client import Client
from mixtrack.testing import Collector
from tests.audit._launch import EXPERIMENT, FLAGS, broken_launch, clean_launch

Launch = Callable[[Client], object]


def feed(collector: Collector, launch: Launch) -> None:
    with Client("tok", api_host=collector.url, flush_interval=0.05) as client:
        launch(client)
        assert client.flush(timeout=10)


@pytest.mark.parametrize("level", ["errors", "warnings"])
def test_clean_launch_exits_0_at_either_level(
    mixtrack_collector: Collector, capsys: pytest.CaptureFixture[str], level: str
) -> None:
    feed(mixtrack_collector, clean_launch)
    code = main(
        ["audit", "--collector", mixtrack_collector.url, "--experiment", EXPERIMENT,
         "--metric", "Order completed", "--value-property", "revenue",
         "--weights", "grid=50,list=50", "--fail-on", level]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "No problems found." in out and "mixtrack audit: OK" in out
    assert "Readout of 'pricing_page_layout'" in out and "peeking" in out
    assert "Order completed (primary)" in out and "total revenue per user" in out


def test_broken_launch_exits_1(
    mixtrack_collector: Collector, capsys: pytest.CaptureFixture[str]
) -> None:
    feed(mixtrack_collector, broken_launch)
    code = main(["audit", "--collector", mixtrack_collector.url, "--fail-on", "errors"])
    out = capsys.readouterr().out
    assert code == 1
    assert "ERROR    duplicate_exposure" in out and "variant_flip" in out
    assert "FAIL (findings at or above errors)" in out


def test_warnings_fail_only_at_the_warnings_level(
    mixtrack_collector: Collector, capsys: pytest.CaptureFixture[str]
) -> None:
    def anonymous_visitors(client: Client) -> None:
        clean_launch(client)
        client.track("$device:9f2c", "$experiment_started",
                     {"Experiment name": EXPERIMENT, "Variant name": "grid",
                      "$device_id": "9f2c"})  # fmt: skip
        client.track("$device:9f2c", "Page viewed", {"$device_id": "9f2c"})
        client.track("$device:77aa", "$experiment_started",
                     {"Experiment name": EXPERIMENT, "Variant name": "list",
                      "$device_id": "77aa"})  # fmt: skip
        client.track("$device:77aa", "Page viewed", {"$device_id": "77aa"})

    feed(mixtrack_collector, anonymous_visitors)
    base = ["audit", "--collector", mixtrack_collector.url, "--json"]
    # Visitors who never sign up are ordinary traffic, not a launch warning.
    assert main([*base, "--fail-on", "warnings"]) == 0
    capsys.readouterr()

    # One of them logs in, but the app sends the login without $user_id: the join is broken.
    client = Client("tok", api_host=mixtrack_collector.url)
    client.track("user-77", "Order completed", {"$device_id": "77aa"})
    assert client.shutdown(timeout=10)
    assert main([*base, "--fail-on", "errors"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert main([*base, "--fail-on", "warnings"]) == 1
    [finding] = body["findings"]
    assert finding["code"] == "unjoined_identity" and finding["count"] == 1
    assert finding["examples"][0]["distinct_id"] == "$device:77aa"


def collector_db(tmp_path: Path, launch: Launch) -> Path:
    db = tmp_path / "collector.sqlite3"
    with Collector(db=db) as collector:
        feed(collector, launch)
    return db


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixtrack.cli", "audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_path_clean_and_broken(tmp_path: Path) -> None:
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps(FLAGS))
    (tmp_path / "clean").mkdir()
    (tmp_path / "bad").mkdir()
    clean = collector_db(tmp_path / "clean", clean_launch)
    broken = collector_db(tmp_path / "bad", broken_launch)
    ok = run_cli("--db", str(clean), "--flags", str(flags), "--fail-on", "warnings")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "planned split" in ok.stdout and "50.0%" in ok.stdout
    bad = run_cli("--db", str(broken), "--flags", str(flags), "--metric", "Order completed")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "duplicate_exposure" in bad.stdout and "missing_variant_name" in bad.stdout


def test_usage_problems_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--db", str(tmp_path / "none.sqlite3")]) == 2
    assert "no collector database" in capsys.readouterr().err
    assert main(["audit", "--collector", "http://127.0.0.1:9", "--weights", "a=1"]) == 2
    assert "two or more variants" in capsys.readouterr().err
    assert main(["audit", "--collector", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the collector" in capsys.readouterr().err


def test_a_misspelt_experiment_or_metric_fails_with_suggestions(tmp_path: Path) -> None:
    db = collector_db(tmp_path, clean_launch)
    typo = run_cli("--db", str(db), "--experiment", "pricing_page_layuot")
    assert typo.returncode == 2
    assert typo.stderr.strip() == (
        "mixtrack audit: no stored exposure is for experiment 'pricing_page_layuot' "
        f"(--experiment); did you mean {EXPERIMENT!r}?"
    )
    assert "OK" not in typo.stdout
    metric = run_cli("--db", str(db), "--experiment", EXPERIMENT, "--metric", "order completed")
    assert metric.returncode == 2
    assert metric.stderr.strip() == (
        "mixtrack audit: no stored event is named 'order completed' (--metric); "
        "did you mean 'Order completed'?"
    )
    far = run_cli("--db", str(db), "--metric", "Refund issued")
    assert far.returncode == 2
    assert "no stored event is named 'Refund issued' (--metric); stored events: " in far.stderr
    assert "'Order completed'" in far.stderr


def test_db_audit_under_either_identity_system(tmp_path: Path) -> None:
    def logins(client: Client) -> None:
        clean_launch(client)
        exposure = {"Experiment name": EXPERIMENT, "Variant name": "grid"}
        client.track("anon-1", "$experiment_started", exposure)
        client.track("anon-1", "Page viewed")
        client.identify("user-new", anon_id="anon-1")  # Original ID Merge's $identify

    db = collector_db(tmp_path, logins)
    simplified = run_cli("--db", str(db), "--json", "--fail-on", "warnings")
    assert simplified.returncode == 1, simplified.stderr
    codes = [f["code"] for f in json.loads(simplified.stdout)["findings"]]
    assert codes == ["unjoined_identity"]
    original = run_cli("--db", str(db), "--json", "--identity", "original", "--fail-on", "warnings")
    assert original.returncode == 0, original.stdout


def refunds_launch(client: Client) -> None:
    """A clean launch where ``list`` triples refunds and ``grid`` sells a bit more."""
    seen = clean_launch(client, users=400)
    for n, (user, variant) in enumerate(seen.items()):
        if n % (3 if variant == "list" else 12) == 0:
            client.track(user, "Refund requested", {"amount": 20.0})


def test_a_guardrail_worse_fails_the_gate_and_the_html_page_is_written(tmp_path: Path) -> None:
    db = collector_db(tmp_path, refunds_launch)
    page = tmp_path / "report.html"
    base = ["--db", str(db), "--experiment", EXPERIMENT, "--metric", "Order completed"]
    failed = run_cli(
        *base, "--guardrail", "Refund requested:lower",
        "--secondary", "Order completed:sum(revenue)",
        "--correction", "bonferroni", "--html", str(page),
    )  # fmt: skip
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "guardrail_regression" in failed.stdout and "GUARDRAIL FAILED" in failed.stdout
    assert "bonferroni correction over 3 comparisons" in failed.stdout
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    # Read as "higher is better", the same guardrail holds.
    assert run_cli(*base, "--guardrail", "Refund requested").returncode == 0


def test_a_misspelt_control_or_guardrail_exits_2(tmp_path: Path) -> None:
    db = collector_db(tmp_path, clean_launch)
    base = ["--db", str(db), "--experiment", EXPERIMENT, "--metric", "Order completed"]
    control = run_cli(*base, "--control", "gird")
    assert control.returncode == 2
    assert "no stored exposure is to variant 'gird' (--control); did you mean 'grid'?" in (
        control.stderr
    )
    guard = run_cli(*base, "--guardrail", "Clicked plans:lower")
    assert guard.returncode == 2
    assert "'Clicked plans' (--guardrail); did you mean 'Clicked plan'?" in guard.stderr
    bad = run_cli(*base, "--sequential-tau", "0")
    assert bad.returncode == 2 and "sequential tau" in bad.stderr
