"""The spool: an append-only, segmented log of messages on disk (``spool_dir=``).

Each record is one line, ``<crc32 hex> <JSON [route, message]>\\n``, written with one
``write(2)`` before ``track()`` returns, so a process killed at any moment loses nothing it
acknowledged (the kernel holds the bytes; ``fsync`` extends that to power loss). Segments are
deleted once every record in them has settled. A torn or corrupt line is detected by its
checksum, skipped with a warning and counted; the lines after it are still read.

Every process writes its own directory under ``spool_dir``, guarded by an ``flock`` held for
the process's life. A directory whose lock can be taken belongs to a process that is gone: its
segments are adopted (moved into the new owner's directory) and delivered again; records that
had already arrived are dropped by the collector as duplicates of their ``$insert_id``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from mixtrack._config import FsyncPolicy
from mixtrack._wire import Route, dumps

__all__ = ["FsyncPolicy", "Record", "Segment", "Spool", "decode_line", "encode_record"]

log = logging.getLogger("mixtrack")

_ROUTES = frozenset({"import", "track", "engage", "groups"})
Record = tuple[Route, dict[str, Any]]


def encode_record(route: Route, message: Mapping[str, Any]) -> bytes:
    payload = dumps([route, message])
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode_line(line: bytes) -> Record | None:
    """A record, or None when the line is torn or corrupt."""
    if len(line) < 11 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    payload = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        route, message = json.loads(payload)
    except ValueError:
        return None
    if route not in _ROUTES or not isinstance(message, dict):
        return None
    return route, message


@attrs.define(eq=False)
class Segment:
    number: int
    path: Path
    first_seq: int
    records: int = 0
    settled: int = 0
    size: int = 0


class Spool:
    """This process's spool directory: appends, reads back, deletes settled segments."""

    def __init__(
        self, root: str | os.PathLike[str], *, segment_bytes: int = 8 * 1024 * 1024
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dir = self.root / f"p{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.dir.mkdir()
        self._lock_fd = os.open(self.dir / "lock", os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.segment_bytes = segment_bytes
        self.segments: list[Segment] = []
        self.corrupt = 0
        self.bytes = 0
        self._fd: int | None = None
        self._next_number = 1

    # -- adoption ------------------------------------------------------------------------

    def adopt_orphans(self, first_seq: int) -> int:
        """Moves the segments of dead processes' directories into this one, counting their
        valid records (sequence numbers from ``first_seq``). Returns how many."""
        seq = first_seq
        for other in sorted(p for p in self.root.iterdir() if p.is_dir() and p != self.dir):
            fd = _try_lock(other / "lock")
            if fd is None:
                continue  # its owner is alive
            try:
                for path in sorted(other.glob("seg-*.log")):
                    segment = self._adopt(path, seq)
                    if segment is not None:
                        seq += segment.records
                for leftover in other.iterdir():
                    leftover.unlink()
                other.rmdir()
            finally:
                os.close(fd)
        return seq - first_seq

    def _adopt(self, path: Path, first_seq: int) -> Segment | None:
        records = sum(1 for _ in self._read(path, 0, count_corrupt=True))
        if records == 0:
            path.unlink()
            return None
        target = self.dir / f"seg-{self._next_number:08d}.log"
        path.rename(target)
        size = target.stat().st_size
        segment = Segment(self._next_number, target, first_seq, records=records, size=size)
        self._next_number += 1
        self.segments.append(segment)
        self.bytes += size
        return segment

    # -- writing -------------------------------------------------------------------------

    def append(self, line: bytes, seq: int) -> Segment:
        """Writes one record (seq is its sequence number); returns its segment."""
        segment = self.segments[-1] if self.segments and self._fd is not None else None
        if segment is None or segment.size + len(line) > self.segment_bytes:
            segment = self._rotate(seq)
        assert self._fd is not None
        os.write(self._fd, line)
        segment.records += 1
        segment.size += len(line)
        self.bytes += len(line)
        return segment

    def _rotate(self, first_seq: int) -> Segment:
        if self._fd is not None:
            os.close(self._fd)
            self._delete_settled()
        path = self.dir / f"seg-{self._next_number:08d}.log"
        self._fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
        segment = Segment(self._next_number, path, first_seq)
        self._next_number += 1
        self.segments.append(segment)
        return segment

    def fsync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    # -- reading -------------------------------------------------------------------------

    def read(self, segment: Segment, offset: int, limit: int) -> tuple[list[Record], int]:
        """Up to ``limit`` records of ``segment`` from byte ``offset``; and the next offset."""
        records: list[Record] = []
        position = offset
        for record, end in self._read(segment.path, offset):
            records.append(record)
            position = end
            if len(records) >= limit:
                break
        else:
            position = segment.size
        return records, position

    def _read(
        self, path: Path, offset: int, *, count_corrupt: bool = False
    ) -> Iterator[tuple[Record, int]]:
        with open(path, "rb") as file:
            file.seek(offset)
            position = offset
            for line in file:
                position += len(line)
                record = decode_line(line)
                if record is None:
                    if count_corrupt:
                        self.corrupt += 1
                        log.warning(
                            "mixtrack: skipped a torn or corrupt record in %s at byte %d",
                            path,
                            position - len(line),
                        )
                    continue
                yield record, position

    # -- settling ------------------------------------------------------------------------

    def segment_of(self, seq: int) -> Segment | None:
        for segment in self.segments:
            if segment.first_seq <= seq < segment.first_seq + segment.records:
                return segment
        return None

    def settle(self, seqs: list[int]) -> None:
        """Counts records as settled; deletes the segments that are then done."""
        segment: Segment | None = None
        for seq in sorted(seqs):
            if segment is None or not seq < segment.first_seq + segment.records:
                segment = self.segment_of(seq)
            if segment is not None:
                segment.settled += 1
        self._delete_settled()

    def drop_segment(self, segment: Segment) -> None:
        """Removes a segment whatever its state (the overflow policy at the disk bound)."""
        segment.settled = segment.records
        self._remove(segment)

    def _delete_settled(self) -> None:
        active = self.segments[-1] if self._fd is not None and self.segments else None
        for segment in [s for s in self.segments if s.settled >= s.records and s is not active]:
            self._remove(segment)

    def _remove(self, segment: Segment) -> None:
        if segment in self.segments:
            self.segments.remove(segment)
            self.bytes -= segment.size
            segment.path.unlink(missing_ok=True)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Closes the files and releases the lock: a later process adopts what is left."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        active_done = [s for s in self.segments if s.settled >= s.records]
        for segment in active_done:
            self._remove(segment)
        if not self.segments:
            (self.dir / "lock").unlink(missing_ok=True)
        os.close(self._lock_fd)
        if not self.segments:
            self.dir.rmdir()

    def forget_after_fork(self) -> None:
        """In a forked child: close inherited descriptors without touching the parent's files
        or lock (an flock is shared with the parent until both copies are closed)."""
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = None


def _try_lock(path: Path) -> int | None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
