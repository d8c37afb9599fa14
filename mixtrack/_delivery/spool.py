"""The spool: append-only, segmented logs of records on disk (``spool_dir=``).

Each endpoint has its own log. A record is one line, ``<crc32 hex> <route> <JSON>\\n`` (the
JSON is the very record the queue holds), written with one ``write(2)`` before ``track()``
returns, so a process killed at any moment loses nothing it acknowledged (the kernel holds
the bytes; ``fsync`` extends that to power loss). Beside each segment, an ``.ack`` file lists
the index ranges that have settled (one line per batch, ``<first> <count>``): after a kill,
only what was not acknowledged — in flight or still queued — is sent again. A segment is
deleted once every record in it has settled. A torn or corrupt line is detected by its
checksum, skipped with a warning and counted; the lines after it are still read.

Every process writes its own directory under ``spool_dir``, guarded by an ``flock`` held for
the process's life. The directory is made under a hidden name, locked, then renamed into place,
so another process never sees it unlocked. A directory whose lock can be taken belongs to a
process that is gone: its records not acknowledged are adopted (queued again by the new owner)
and the directory removed; records that had already arrived are dropped by the collector as
duplicates of their ``$insert_id``. Processes starting together may race for one orphan: the
one holding its lock adopts it; the others find it gone and go on.

The disk can fail under a running process (full, read-only, failing): a record that cannot be
written whole is cut off again (the log stays line-aligned) and :class:`SpoolWriteError` says
so, for the queue to drop and count it; failing acknowledgements and reads are logged and never
raised into the delivery threads. A ``spool_dir`` that cannot be made or written at start is a
:class:`~mixtrack.ConfigError` naming the folder.
"""

from __future__ import annotations

import contextlib
import errno
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

from mixtrack._delivery.records import dumps
from mixtrack._delivery.stats import LogLimit
from mixtrack.errors import ConfigError
from mixtrack.protocol.routes import ROUTES, Route

__all__ = ["Segment", "Spool", "SpoolWriteError", "decode_line", "encode_line", "encode_record"]

log = logging.getLogger("mixtrack")

_ROUTES: dict[bytes, Route] = {route.encode(): route for route in ROUTES}


def encode_line(route: Route, record: bytes) -> bytes:
    """One spool line for a serialized record."""
    payload = route.encode() + b" " + record
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def encode_record(route: Route, message: Mapping[str, Any]) -> bytes:
    """One spool line for a message (serialized here)."""
    return encode_line(route, dumps(message))


def decode_raw(line: bytes) -> tuple[Route, bytes] | None:
    """The route and record of a line, or None when it is torn or corrupt. Reads the format
    of earlier versions too (``<crc> [route, message]``)."""
    if len(line) < 11 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    payload = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
    except ValueError:
        return None
    name, _, record = payload.partition(b" ")
    route = _ROUTES.get(name)
    if route is not None and record[:1] == b"{":
        return route, record
    try:  # the format of earlier versions: a JSON array [route, message]
        legacy = json.loads(payload)
        route, message = legacy
    except (ValueError, TypeError):
        return None
    if route not in ROUTES or not isinstance(message, dict):
        return None
    return route, dumps(message)


def decode_line(line: bytes) -> tuple[Route, dict[str, Any]] | None:
    """A line's route and message, or None when the line is torn or corrupt."""
    raw = decode_raw(line)
    if raw is None:
        return None
    message = json.loads(raw[1])
    return (raw[0], message) if isinstance(message, dict) else None


class SpoolWriteError(OSError):
    """A record could not be written to the spool (the disk is full or failing)."""


@attrs.define(eq=False)
class Segment:
    """Records ``[first, first + records)`` of one endpoint's log."""

    route: Route
    number: int
    path: Path
    first: int
    records: int = 0
    settled: int = 0
    size: int = 0
    #: where the last read of the backlog stopped, so the next one goes on from there
    cursor: tuple[int, int] = (0, 0)  # (index, byte offset) of the next record to read

    @property
    def acks(self) -> Path:
        return self.path.with_suffix(".ack")


class Spool:
    """This process's spool directory: appends, reads back, acknowledges, deletes. The
    durable :class:`~mixtrack._delivery.backlog.Backlog` of a queue."""

    durable = True
    full_cause = "spool full"

    def __init__(
        self, root: str | os.PathLike[str], *, segment_bytes: int = 8 * 1024 * 1024
    ) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.dir, self._lock_fd = _claim(self.root)
        except OSError as exc:
            raise ConfigError(
                f"spool_dir {str(root)!r} cannot be used: {exc.strerror or exc}; give a folder "
                "this process can create and write to, or leave spool_dir unset"
            ) from exc
        self._warnings = LogLimit()
        self.segment_bytes = segment_bytes
        self.max_bytes = 1024**3
        self.fsync_policy = "none"
        self.segments: dict[Route, list[Segment]] = {route: [] for route in ROUTES}
        self.corrupt = 0
        self.bytes = 0
        self._fds: dict[Route, int] = {}
        self._appended: dict[Route, int] = dict.fromkeys(ROUTES, 0)
        self._next_number = 1
        self._unsynced = False

    # -- adoption ------------------------------------------------------------------------

    def adopt_orphans(self) -> Iterator[tuple[Route, bytes]]:
        """The records not acknowledged in the directories of dead processes, in order;
        each directory is removed once read (the caller queues the records again)."""
        try:
            others = sorted(self.root.iterdir())
        except OSError:
            return
        for other in others:
            if other.name.startswith(".") or other == self.dir:
                continue  # a directory being made (hidden), or this process's own
            fd = _try_lock(other / "lock")
            if fd is None:
                continue  # its owner is alive, or another process adopted it first
            try:
                records = self._orphan_records(other, fd)
                if records is not None:
                    yield from records
                    _remove_tree(other)
            finally:
                os.close(fd)

    def _orphan_records(self, other: Path, fd: int) -> list[tuple[Route, bytes]] | None:
        """The unacknowledged records of a dead process's directory whose lock ``fd``
        holds; None when it went away meanwhile (its owner closed, or another adopted it)."""
        if not _still_there(fd, other / "lock"):
            return None
        try:
            paths = sorted(other.glob("seg-*.log"))
            return [r for path in paths for r in self._unacknowledged(path)]
        except OSError as exc:
            log.warning("could not adopt the spool in %s: %s", other, exc)
            return None

    def _unacknowledged(self, path: Path) -> list[tuple[Route, bytes]]:
        acked: set[int] = set()
        ack_path = path.with_suffix(".ack")
        if ack_path.exists():
            for line in ack_path.read_bytes().splitlines():
                first, _, count = line.partition(b" ")
                try:
                    acked.update(range(int(first), int(first) + int(count)))
                except ValueError:
                    continue  # a torn last line: its batch is sent again
        out: list[tuple[Route, bytes]] = []
        index = 0  # acknowledgements count lines from the segment's first, as written
        with open(path, "rb") as file:
            position = 0
            for line in file:
                raw = decode_raw(line)
                if raw is None:
                    self.corrupt += 1
                    log.warning(
                        "skipped a torn or corrupt record in %s at byte %d",
                        path,
                        position,
                    )
                elif index not in acked:
                    out.append(raw)
                index += 1
                position += len(line)
        return out

    # -- the queue's backlog -------------------------------------------------------------

    def has_room(self, size: int) -> bool:
        return self.bytes + size + 16 <= self.max_bytes

    def add(self, route: Route, record: bytes) -> bool:
        if not self.has_room(len(record)):
            return False
        self.append(route, record)
        return True

    def droppable(self, route: Route, index: int) -> int:
        """Records in complete segments only: acknowledging all of a segment deletes it, and
        the segment being written stays until it is complete."""
        return max(0, self.sealed_before(route) - index)

    def append(self, route: Route, record: bytes) -> None:
        """Writes one record; its index is the count of records appended to ``route``."""
        line = encode_line(route, record)
        segments = self.segments[route]
        segment = segments[-1] if segments and route in self._fds else None
        try:
            if segment is None or segment.size + len(line) > self.segment_bytes:
                segment = self._rotate(route)
            written = os.write(self._fds[route], line)
        except OSError as exc:
            raise SpoolWriteError(exc.errno, f"{exc.strerror} writing to {self.dir}") from exc
        if written != len(line):
            # a short write (the disk filled): cut the torn line off, so that the next one
            # starts a line and the record indices stay those of the lines
            with contextlib.suppress(OSError):
                os.ftruncate(self._fds[route], segment.size)
            raise SpoolWriteError(errno.ENOSPC, f"No space left on device writing to {self.dir}")
        segment.records += 1
        segment.size += len(line)
        self.bytes += len(line)
        self._appended[route] += 1
        if self.fsync_policy == "event":
            self._fsync(self._fds[route])
        else:
            self._unsynced = True

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            self._warn("fsync", f"could not fsync the spool in {self.dir}: {exc}")

    def _warn(self, key: str, message: str) -> None:
        due, _, total, _ = self._warnings.due(key)
        if due:
            log.warning("%s (%d times so far)", message, total)

    def _rotate(self, route: Route) -> Segment:
        fd = self._fds.pop(route, None)
        if fd is not None:
            os.close(fd)
            self._delete_settled(route)
        path = self.dir / f"seg-{route}-{self._appended[route]:012d}-{self._next_number:06d}.log"
        self._fds[route] = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
        segment = Segment(route, self._next_number, path, self._appended[route])
        self._next_number += 1
        self.segments[route].append(segment)
        return segment

    def before_send(self) -> None:
        """``spool_fsync="batch"``: what is about to be sent is on stable storage first."""
        if self.fsync_policy == "batch" and self._unsynced:
            for fd in self._fds.values():
                self._fsync(fd)
            self._unsynced = False

    def read(self, route: Route, index: int, limit: int) -> list[bytes]:
        """Up to ``limit`` records of ``route`` from ``index`` on (the backlog, read back)."""
        out: list[bytes] = []
        for segment in self.segments[route]:
            if len(out) >= limit:
                break
            if index >= segment.first + segment.records or index < segment.first:
                continue
            at, offset = segment.cursor
            if at != index:
                at, offset = segment.first, 0  # not where the last read stopped: from the top
            try:
                with open(segment.path, "rb") as file:
                    file.seek(offset)
                    for line in file:
                        offset += len(line)
                        if at >= index:
                            raw = decode_raw(line)
                            if raw is not None:
                                out.append(raw[1])
                        at += 1
                        if at >= index and len(out) >= limit:
                            break
            except OSError as exc:
                # what was read is used; the rest stays on disk for the next read
                self._warn("read", f"could not read the spool in {segment.path}: {exc}")
                return out
            segment.cursor = (at, offset)
            index = at
        return out

    def ack(self, route: Route, first: int, count: int, nbytes: int = 0) -> None:
        """Records that ``count`` records from index ``first`` settled (one line per
        segment touched); deletes segments that are then done."""
        stop = first + count
        for segment in self.segments[route]:
            low, high = max(first, segment.first), min(stop, segment.first + segment.records)
            if low >= high:
                continue
            segment.settled += high - low
            if segment.settled < segment.records or segment is self._active(route):
                try:
                    with open(segment.acks, "ab") as file:
                        file.write(b"%d %d\n" % (low - segment.first, high - low))
                except OSError as exc:
                    # the count above still deletes the segment once done; only a crash
                    # before then sends these records again (the collector dedups them)
                    self._warn("ack", f"could not acknowledge in {segment.acks}: {exc}")
        self._delete_settled(route)

    def sealed_before(self, route: Route) -> int:
        """The first index of the segment being written: records before it are in segments
        that are complete, which acknowledging every record of deletes."""
        active = self._active(route)
        return active.first if active is not None else self._appended[route]

    def _active(self, route: Route) -> Segment | None:
        segments = self.segments[route]
        return segments[-1] if segments and route in self._fds else None

    def _delete_settled(self, route: Route) -> None:
        active = self._active(route)
        for segment in [s for s in self.segments[route] if s.settled >= s.records]:
            if segment is not active:
                self._remove(segment)

    def _remove(self, segment: Segment) -> None:
        segments = self.segments[segment.route]
        if segment in segments:
            segments.remove(segment)
            self.bytes -= segment.size
            segment.path.unlink(missing_ok=True)
            segment.acks.unlink(missing_ok=True)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Closes the files and releases the lock: a later process adopts what is left."""
        for fd in self._fds.values():
            if self.fsync_policy != "none":
                self._fsync(fd)
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        for route in ROUTES:
            self._delete_settled(route)
        empty = not any(self.segments.values())
        if empty:
            (self.dir / "lock").unlink(missing_ok=True)
        os.close(self._lock_fd)
        if empty:
            self.dir.rmdir()

    def forget_after_fork(self) -> None:
        """In a forked child: close inherited descriptors without touching the parent's files
        or lock (an flock is shared with the parent until both copies are closed)."""
        for fd in [*self._fds.values(), self._lock_fd]:
            os.close(fd)
        self._fds.clear()


def _claim(root: Path) -> tuple[Path, int]:
    """Makes this process's directory, locked before any other process can see it: made
    under a hidden name, locked, then renamed into place."""
    name = f"p{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = root / f".new-{name}"
    staging.mkdir()
    fd = os.open(staging / "lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(staging, root / name)
    except OSError:
        os.close(fd)
        raise
    return root / name, fd


def _still_there(fd: int, path: Path) -> bool:
    """True when ``path`` is still the file ``fd`` locked (not unlinked meanwhile)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _remove_tree(directory: Path) -> None:
    """Removes an adopted directory: the logs first and the lock last, so that a crash
    half-way leaves a directory that is still locked, hence adoptable, or nothing."""
    with contextlib.suppress(OSError):
        entries = sorted(directory.iterdir(), key=lambda path: path.name == "lock")
        for entry in entries:
            entry.unlink(missing_ok=True)
        directory.rmdir()


def _try_lock(path: Path) -> int | None:
    try:
        fd = os.open(path, os.O_RDWR)  # never made here: a directory without one is not ours
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
