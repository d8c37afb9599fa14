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


def install_wheel(tmp_path: Path, extra: str) -> Path:
    """A fresh virtualenv with the wheel built from this checkout and ``extra``; its bin/."""
    wheels = tmp_path / "wheels"
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("mixtrack-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "-q", f"{wheel}[{extra}]", cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    return env_dir / "bin"


def assert_clean_launch(out: str, visitors: int) -> None:
    assert f"{visitors}/{visitors} visitors" in out
    assert re.search(r"pricing_page_layout: \d+ exposed users, 0 exposed more than once", out)
    assert "No problems found." in out or "Findings: 0 error(s)" in out
    assert "unjoined_identity" not in out


def assert_only_the_database_left(folder: Path) -> None:
    left = {p.name for p in folder.iterdir()}
    assert "mixtrack-demo.sqlite3" in left
    assert left <= {
        "mixtrack-demo.sqlite3",
        "mixtrack-demo.sqlite3-shm",
        "mixtrack-demo.sqlite3-wal",
    }


@pytest.mark.slow
def test_demo_from_a_wheel_with_only_the_django_extra(tmp_path: Path) -> None:
    bin_dir = install_wheel(tmp_path, "django")
    # Only what the demo needs: no test, docs or provider dependencies came along.
    listed = run(bin_dir / "python", "-m", "pip", "list", "--format=freeze", cwd=tmp_path)
    assert "django==" in listed.stdout.lower() and "pytest" not in listed.stdout.lower()
    assert "flask" not in listed.stdout.lower()
    folder = tmp_path / "anywhere"
    folder.mkdir()
    version = run(bin_dir / "mixtrack", "--version", cwd=folder)
    assert re.fullmatch(r"mixtrack \d+\.\d+\.\d+\S*\n", version.stdout), version
    # the Flask shop without Flask: one line naming the extra, before anything starts
    flask = run(bin_dir / "mixtrack", "demo", "--no-wait", "--shop", "flask", cwd=folder)
    assert flask.returncode == 2
    assert flask.stderr.strip() == (
        "mixtrack demo: the flask shop needs flask, flask_login: pip install 'mixtrack[demo]' "
        "(in a checkout, `make demo` sets up .venv-demo with both shops)"
    )
    assert list(folder.iterdir()) == []
    demo = run(
        bin_dir / "mixtrack", "demo", "--no-wait", "--visitors", "40", "--port", "0",
        cwd=folder, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert_clean_launch(demo.stdout, 40)
    assert_only_the_database_left(folder)


@pytest.mark.slow
def test_demo_with_the_flask_shop_from_a_wheel_in_an_empty_folder(tmp_path: Path) -> None:
    bin_dir = install_wheel(tmp_path, "demo")
    folder = tmp_path / "empty"
    folder.mkdir()
    temp = tmp_path / "tmp"
    temp.mkdir()
    demo = subprocess.run(
        [str(bin_dir / "mixtrack"), "demo", "--no-wait", "--shop", "flask", "--visitors", "40",
         "--port", "0"],
        cwd=folder,
        env={**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
             "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "example shop (flask)" in demo.stdout
    assert_clean_launch(demo.stdout, 40)
    assert_only_the_database_left(folder)
    assert list(temp.iterdir()) == []  # the shop's log and database folder is gone too
