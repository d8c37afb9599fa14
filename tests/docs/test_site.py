"""The documentation site builds with ``mkdocs build --strict``: no broken link, no missing
page, no docstring the reference cannot render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr[-6000:]
    for page in ("index.html", "tutorial/index.html", "reference/mixtrack/index.html"):
        assert (site / page).is_file(), page
    reference = (site / "reference" / "mixtrack" / "index.html").read_text()
    assert 'id="mixtrack.Client.track"' in reference  # generated from the docstrings
    assert "Aborted" not in run.stderr
