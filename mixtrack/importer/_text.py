"""A history file as numbered text lines and CSV records (pure, bounded memory).

Lines are decoded one at a time, strictly, so that an undecodable byte is reported with its
line and column instead of a traceback; a CSV record keeps the line it starts on and its raw
text, so that a refused row can be named by line and written out again as it was.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
>>> _ = path.write_bytes(b"event,distinct_id\\nCaf\\xe9,u1\\n")
>>> [text for _, text in text_lines(path, "latin-1")]
['event,distinct_id\\n', 'Café,u1\\n']
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

import attrs

from mixtrack.errors import ConfigError

__all__ = ["CsvRecord", "check_encoding", "csv_records", "sample_and_lines", "text_lines"]

#: A longer line is not text a person exported: refuse it rather than hold it in memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
_SAMPLE_CHARS = 64 * 1024


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or a clear error for a name Python does not know.

    >>> check_encoding("Latin-1"), check_encoding("utf8")
    ('iso8859-1', 'utf-8')
    """
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(
            f"unknown --encoding {encoding!r}: try utf-8, cp1252 (Excel on Windows) or latin-1"
        ) from None


def _undecodable(path: Path, line: int, data: bytes, exc: UnicodeDecodeError, codec: str) -> str:
    byte = data[exc.start]
    column = len(data[: exc.start].decode(codec, errors="replace")) + 1
    where = f"{path.name}, line {line}, column {column}: byte 0x{byte:02x} is not valid {codec}"
    if b"\x00" in data:
        return f"{where}; the file looks binary (it holds NUL bytes): import reads NDJSON or CSV"
    if codec == "utf-8":
        return (
            f"{where}; a file saved by Excel or another Windows program is usually cp1252: "
            "pass --encoding cp1252 (or --encoding latin-1)"
        )
    return f"{where}; pass the --encoding the file was saved in"


def text_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line, line endings kept; a UTF-8 BOM is dropped.

    Raises :class:`~mixtrack.errors.ConfigError` naming the line, column and byte that do not
    decode, or a line longer than 16 MiB.
    """
    codec = check_encoding(encoding)
    if codec.startswith(("utf-16", "utf-32")):
        # Wide encodings cannot be cut at b"\n": decode the stream whole.
        number = 0
        try:
            with open(path, encoding=codec, newline="") as file:
                for number, text in enumerate(file, start=1):
                    yield number, text
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path.name}, after line {number}: not valid {codec} ({exc.reason}); "
                "pass the --encoding the file was saved in"
            ) from None
        return
    with open(path, "rb") as file:
        for number, data in enumerate(iter(lambda: file.readline(MAX_LINE_BYTES), b""), 1):
            if len(data) == MAX_LINE_BYTES and not data.endswith(b"\n"):
                raise ConfigError(
                    f"{path.name}, line {number} is longer than {MAX_LINE_BYTES // 2**20} MiB: "
                    "import reads NDJSON or CSV text"
                )
            if number == 1 and codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            try:
                yield number, data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ConfigError(_undecodable(path, number, data, exc, codec)) from None


@attrs.frozen
class CsvRecord:
    """One CSV record: the line it starts on, the line it ends on, its cells (or why it has
    none) and its text as it was in the file."""

    line: int
    last_line: int
    cells: list[str] | None
    raw: str
    error: str | None = None

    def runs_over_rows(self, header_size: int, delimiter: str) -> bool:
        """A quoted cell that takes in what look like further rows: a missing closing quote.

        A cell may hold a line break legitimately; one that also holds the delimiter, or
        leaves the record with a cell count the header does not have, is a quote left open.
        """
        if self.last_line == self.line or self.cells is None:
            return False
        broken = [cell for cell in self.cells if "\n" in cell or "\r" in cell]
        return bool(broken) and (
            len(self.cells) != header_size or any(delimiter in cell for cell in broken)
        )


def sample_and_lines(
    lines: Iterator[tuple[int, str]],
) -> tuple[str, Iterator[tuple[int, str]]]:
    """The first 64k characters (to detect the delimiter from) and all the lines again."""
    head: list[tuple[int, str]] = []
    size = 0
    for item in lines:
        head.append(item)
        size += len(item[1])
        if size >= _SAMPLE_CHARS:
            break
    return "".join(text for _, text in head), itertools.chain(head, lines)


def csv_records(
    lines: Iterator[tuple[int, str]], dialect: type[csv.Dialect] | csv.Dialect
) -> Iterator[CsvRecord]:
    """Every non-blank record, the header included, with its lines and raw text."""
    taken: list[tuple[int, str]] = []

    def feed() -> Iterator[str]:
        for number, text in lines:
            taken.append((number, text))
            yield text

    reader = csv.reader(feed(), dialect)
    while True:
        error = None
        try:
            cells: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, error = None, f"malformed CSV: {exc}"
        if not taken:
            return
        first, last = taken[0][0], taken[-1][0]
        raw = "".join(text for _, text in taken)
        taken.clear()
        if cells == [] and error is None:
            continue
        yield CsvRecord(first, last, cells, raw, error)
