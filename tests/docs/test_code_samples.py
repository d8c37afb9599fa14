"""Every code sample in the documentation runs, against a real local collector.

How samples are executed
------------------------
Each page (``README.md`` and every ``docs/**/*.md``) is one session, like a doctest: its
fenced blocks run in order, in one namespace, in a fresh Python process started in an empty
scratch directory (files a sample writes are there for the next one). Before the page runs,
``http://127.0.0.1:8765`` in every block is replaced by the URL of a
``mixtrack.testing.Collector`` started by this module (emptied before each page), and
``MIXTRACK_API_HOST`` points at it too. The process refuses any connection or name lookup
that is not for this machine, so a sample that would reach Mixpanel or a flag service fails.

An HTML comment on the line before a block says how to run it; without one, Python blocks
run in the page's namespace and other languages are not run:

``<!-- run: pytest -->``
    The block is a test module. It is written to a file and run by pytest in a subprocess,
    with mixtrack's pytest plugin (``mixtrack_collector``, ``mixtrack_client``,
    ``mixtrack_events``) and the stand-in fixtures of ``_runner.CONFTEST``; every
    ``def test_`` in it must pass.
``<!-- run: pytest-django -->``
    The same, under pytest-django with the Django project of ``tests/django`` (a
    ``/pricing`` page that renders the ``pricing_page_layout`` experiment).
``<!-- run: django-settings -->``
    A settings fragment (``INSTALLED_APPS += [...]``): applied, with the page's earlier
    fragments, to a minimal project (``_runner.DJANGO_BASE``), which must then pass
    ``manage.py check`` with no warning and load every template engine. Later Python blocks
    of the page run with Django set up from those settings.
``<!-- run: bash -->``
    A shell block, run with ``bash -euo pipefail`` in the scratch directory, with the
    virtualenv's ``mixtrack`` on ``PATH``.
``<!-- run: output -->``
    Not run: what the block before it prints. It must match that output exactly, where
    ``...`` stands for any text.

Shell blocks that are not run but use a ``mixtrack`` command are smoke-tested: each
subcommand they name answers ``--help``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mixtrack.testing import Collector
from tests.docs._samples import (
    MODES,
    PYTHON,
    ROOT,
    SAMPLE_HOST,
    Sample,
    executable,
    mixtrack_commands,
    pages,
    samples,
)

RUNNER = Path(__file__).with_name("_runner.py")
BIN = Path(sys.executable).parent
PAGES = {str(p.relative_to(ROOT)): samples(p) for p in pages()}
RUN_PAGES = sorted(page for page, found in PAGES.items() if any(map(executable, found)))


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    with Collector() as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", RUN_PAGES)
def test_page_samples_run(page: str, collector: Collector, tmp_path: Path) -> None:
    collector.reset()
    run_page(page, collector, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_tutorial_can_be_followed_twice(collector: Collector, tmp_path: Path) -> None:
    """A reader who follows it again meets the first run's events in the collector."""
    collector.reset()
    page = "docs/tutorial.md"
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    run_page(page, collector, tmp_path / "first", skip="reset")
    assert collector.events("Signed up")
    run_page(page, collector, tmp_path / "second")


def run_page(page: str, collector: Collector, tmp_path: Path, skip: str | None = None) -> None:
    """Run one page's samples in a fresh process; ``skip`` leaves out blocks containing it."""
    blocks = [
        {
            "where": s.where,
            "mode": s.mode or "session",
            "code": s.code.replace(SAMPLE_HOST, collector.url),
        }
        for s in PAGES[page]
        if (executable(s) or s.mode == "output") and not (skip and skip in s.code)
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"page": page, "blocks": blocks}))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {
        **os.environ,
        "MIXTRACK_API_HOST": collector.url,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(scratch)]),
        "NO_PROXY": "*",
    }
    env.pop("MIXTRACK_TOKEN", None)
    run = subprocess.run(
        [sys.executable, str(RUNNER), str(plan)],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, f"{page}:\n{run.stdout[-4000:]}\n{run.stderr[-8000:]}"


def test_every_marker_is_known() -> None:
    unknown = [s.where for found in PAGES.values() for s in found if s.mode and s.mode not in MODES]
    assert not unknown, f"unknown <!-- run: ... --> markers at {unknown}"


def test_the_docs_have_python_samples_and_they_all_run() -> None:
    python = [s for found in PAGES.values() for s in found if s.lang in PYTHON]
    assert len(python) > 50
    assert all(executable(s) for s in python)
    for page in ("README.md", "docs/tutorial.md", "docs/testing.md", "docs/importing.md"):
        assert page in RUN_PAGES


def _shell_commands() -> list[tuple[str, str]]:
    used = {
        (command, s.where)
        for found in PAGES.values()
        for s in found
        if not executable(s)
        for command in mixtrack_commands(s)
    }
    return sorted(used)


@pytest.mark.parametrize(("command", "where"), _shell_commands())
def test_shell_samples_name_real_commands(command: str, where: str) -> None:
    run = subprocess.run(
        [str(BIN / "mixtrack"), command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"{where}: mixtrack {command} --help\n{run.stderr}"
    assert "usage: mixtrack" in run.stdout


def test_samples_point_at_the_local_collector_address() -> None:
    """Readers paste samples: the collector address they use is the one it listens on."""
    wrong = [
        s.where
        for found in PAGES.values()
        for s in found
        if s.lang in PYTHON and "127.0.0.1:" in s.code and SAMPLE_HOST not in s.code
    ]
    assert not wrong, wrong


def test_a_sample_is_a_sample() -> None:
    """The reader of the harness: parsing keeps markers and strips the fence's indent."""
    page = ROOT / "docs" / "tutorial.md"
    found = samples(page)
    assert found and all(isinstance(s, Sample) for s in found)
    assert any(s.mode == "output" for s in found)
    assert not any(s.code.startswith(" ") for s in found if s.lang in PYTHON)
