"""The README's first command: the demo runs end to end and reports a clean launch."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.parametrize("shop", ["django", "flask"])
def test_demo_runs_end_to_end(tmp_path, shop):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mixtrack.cli",
            "demo",
            "--no-wait",
            "--shop",
            shop,
            "--visitors",
            "80",
            "--port",
            "0",
            "--db",
            str(tmp_path / "demo.sqlite3"),
        ],
        # Both shops ship in the package: the demo runs in any folder.
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "80/80 visitors" in out
    assert re.search(r"live view: http://127\.0\.0\.1:\d+/", out)
    exposed = re.search(
        r"pricing_page_layout: (\d+) exposed users, (\d+) exposed more than once", out
    )
    assert exposed and int(exposed.group(1)) > 30 and exposed.group(2) == "0"
    assert re.search(r"\d+  Signed up", out) and re.search(r"\d+  Order completed", out)
    # A launch done right: no errors; the split matches the plan. Most visitors never sign
    # up: ordinary anonymous traffic raises no warning, and every login joins its device.
    assert "No problems found." in out or "Findings: 0 error(s)" in out, out
    assert "unjoined_identity" not in out and "unidentified_anonymous" not in out, out
    assert re.search(r"sample ratio vs planned split: .* -> ok", out)
    assert "Readout of 'pricing_page_layout' (control: grid)" in out
    assert "Order completed:sum(revenue) (secondary): total revenue per user" in out
    assert "peeking" in out
    # nothing left behind but the collector's database
    assert {p.name for p in tmp_path.iterdir()} <= {
        "demo.sqlite3",
        "demo.sqlite3-wal",
        "demo.sqlite3-shm",
    }


def test_a_shop_that_dies_at_start_is_reported_with_its_own_last_lines(tmp_path):
    from mixtrack.demo._run import _wait_healthy

    log_path = tmp_path / "flask-shop.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; print('ModuleNotFoundError: flask'); sys.exit(3)"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.wait(timeout=30)
    with pytest.raises(RuntimeError) as raised:
        _wait_healthy("http://127.0.0.1:9", process, log_path)
    assert str(raised.value) == (
        "the example shop exited with status 3; its last lines:\n  | ModuleNotFoundError: flask"
    )
