"""``pip install 'mixtrack[django]'`` then ``mixtrack demo`` in an empty folder: the first
contact a newcomer has, with nothing of the checkout on the path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_demo_from_a_wheel_with_only_the_django_extra(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("mixtrack-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "-q", f"{wheel}[django]", cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    # Only what the demo needs: no test, docs or provider dependencies came along.
    listed = run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout.lower()
    assert "django==" in listed and "pytest" not in listed and "flask" not in listed
    folder = tmp_path / "anywhere"
    folder.mkdir()
    demo = run(
        env_dir / "bin" / "mixtrack", "demo", "--no-wait", "--visitors", "40", "--port", "0",
        cwd=folder, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "40/40 visitors" in demo.stdout
    assert re.search(
        r"pricing_page_layout: \d+ exposed users, 0 exposed more than once", demo.stdout
    )
    assert "No problems found." in demo.stdout or "Findings: 0 error(s)" in demo.stdout
    assert "unjoined_identity" not in demo.stdout
    # It leaves only the collector's database behind in the folder it ran in.
    left = {p.name for p in folder.iterdir()}
    assert "mixtrack-demo.sqlite3" in left
    assert left <= {
        "mixtrack-demo.sqlite3",
        "mixtrack-demo.sqlite3-shm",
        "mixtrack-demo.sqlite3-wal",
    }
