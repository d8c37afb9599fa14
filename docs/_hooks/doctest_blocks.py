"""mkdocs hook: docstrings written for ``help()`` and doctest read well on the site too.

- doctest examples (``>>>`` lines) become ``pycon`` code blocks, without their
  ``# doctest:`` directives; otherwise Markdown reads them as paragraphs (lines joined,
  ``[0]["event"]`` taken for a link);
- Sphinx roles (``:class:`~mixtrack.Client```) become inline code.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj|const):`~?([^`]+)`")


def _role(match: re.Match[str]) -> str:
    return f"`{match.group(1)}`"


class _DoctestBlocks(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        fence: str | None = None
        in_example = False
        for line in lines:
            stripped = line.lstrip()
            if fence is None and not in_example and stripped.startswith(("```", "~~~")):
                fence = stripped[:3]
            elif fence is not None:
                if stripped.startswith(fence):
                    fence = None
            elif not in_example and stripped.startswith(">>>"):
                out.append("```pycon")
                in_example = True
            elif in_example and not stripped:
                out.append("```")
                in_example = False
            if in_example:
                line = _DIRECTIVE.sub("", line)
            elif fence is None:
                line = _ROLE.sub(_role, line)
            out.append(line)
        if in_example:
            out.append("```")
        return out


class DoctestBlocksExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # Before the fenced-code preprocessors (superfences registers at 25).
        md.preprocessors.register(_DoctestBlocks(md), "mixtrack_doctest_blocks", 40)


@event_priority(100)  # before mkdocstrings reads the extension list
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestBlocksExtension())
    return config
