"""The test matrix: every supported Python with the newest dependencies pip picks for it.

    nox                      # the whole suite on 3.10, 3.11, 3.12 and 3.13 (`make test-all`)
    nox -s tests-3.13        # one Python
    nox -s quick             # the smaller set CI runs on the Pythons besides 3.11
    nox -s tests-3.12 -- tests/django -x   # pytest arguments after --

Interpreters come from PATH, or else from pyenv (~/.pyenv/versions/3.X.*).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
#: What CI runs on the other Pythons: every layer, framework, provider and client library,
#: without the reliability and load runs, the docs sessions, the demo and the browser tests,
#: which the 3.11 suite covers.
QUICK = [
    "tests/core",
    "tests/async",
    "tests/spool",
    "tests/compat",
    "tests/exposure",
    "tests/flags",
    "tests/flags_adapters",
    "tests/collector",
    "tests/audit",
    "tests/importer",
    "tests/web",
    "tests/django",
    "tests/flask",
    "tests/fastapi",
    "tests/jobs",
    "tests/visible",
    "tests/test_exported_members.py",
    "--deselect=tests/collector/test_browser.py",
    "--deselect=tests/collector/test_browser_unicode.py",
]

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

_PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
if _PYENV.is_dir():
    # Newest patch release of each minor version last, so it wins on PATH.
    found = sorted(
        _PYENV.glob("3.*/bin"),
        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    )
    os.environ["PATH"] = os.pathsep.join([*map(str, reversed(found)), os.environ["PATH"]])


def _install(session: nox.Session) -> None:
    # --upgrade-strategy eager: the newest release of every dependency this Python can take.
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", ".[dev]")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite (or the pytest arguments given after ``--``)."""
    _install(session)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=PYTHONS)
def quick(session: nox.Session) -> None:
    """The CI subset for the Pythons besides the one ``make test`` runs."""
    _install(session)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *QUICK, *session.posargs)
