"""Reading the code samples out of the documentation (pure: no I/O beyond reading the file).

A sample is a fenced block. The HTML comment on the line before it, if any, says how to run
it: ``<!-- run: MODE -->``. See ``test_code_samples.py`` for the modes.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
#: the address samples use for the local collector; replaced by the test collector's URL
SAMPLE_HOST = "http://127.0.0.1:8765"

PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"bash", "sh", "console", "shell"})
MODES = frozenset(
    {"session", "pytest", "pytest-django", "django-settings", "bash", "output", "show"}
)

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*run:\s*(?P<mode>[\w-]+)\s*-->\s*$")


@attrs.frozen
class Sample:
    page: str  # path relative to the repository root
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    mode: str  # the marker's mode; "" when there is none

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site, and the README."""
    docs = sorted(p for p in (ROOT / "docs").rglob("*.md") if "_hooks" not in p.parts)
    return [ROOT / "README.md", *docs]


def samples(path: Path) -> list[Sample]:
    """The fenced blocks of one page, in order, with their run markers."""
    page = str(path.relative_to(ROOT))
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Sample] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence, lang = match["indent"], match["fence"], match["lang"].lower()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1  # the closing fence
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.match(before)
        found.append(
            Sample(page, start + 1, lang, "\n".join(body) + "\n", marker["mode"] if marker else "")
        )
    return found


def executable(sample: Sample) -> bool:
    """Python blocks always run (unless shown as output); shell blocks when marked."""
    if sample.mode == "output":
        return False
    return sample.lang in PYTHON or sample.mode == "bash"


_CLI = re.compile(r"(?:^|[\s/$])mixtrack\s+(collector|demo|import|audit)\b")


def mixtrack_commands(sample: Sample) -> set[str]:
    """The ``mixtrack`` subcommands a shell block uses (``collector``, ``import``, ...)."""
    if sample.lang not in SHELL:
        return set()
    return set(_CLI.findall(sample.code))
