"""A dependency-free progress bar for the command line (one line, redrawn in place)."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """``[#####-----] 120/300 visitors  ...`` on a stream, at most ten redraws a second."""

    def __init__(self, total: int, unit: str, stream: TextIO | None, width: int = 30) -> None:
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream
        self.width = width
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = 0

    def update(self, done: int, note: str = "", *, final: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        filled = int(self.width * min(done, self.total) / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {done:,}/{self.total:,} {self.unit}"
        line = f"{line}  {note}" if note else line
        self.stream.write("\r" + line.ljust(self._drawn))
        self._drawn = 0 if final else len(line)
        if final:
            self.stream.write("\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        """A line of its own above the bar (which the next update draws again)."""
        if self.stream is None:
            return
        self.stream.write("\r" + text.ljust(self._drawn) + "\n")
        self._drawn = 0
        self._last = 0.0
        self.stream.flush()
