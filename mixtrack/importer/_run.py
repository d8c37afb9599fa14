"""Sending a history file to ``/import``: parallel gzip batches, retries, a checkpoint.

Each chunk is delivered by the same sender as the clients' (:mod:`mixtrack._delivery.sender`): the
same retries and backoff, one probe at a time while the collector is down (the workers share
one circuit), 413 splits, and the same log lines.

The file is cut into chunks of ``batch_size`` rows and the checkpoint lists the chunks done by
a digest of their content, not their position: a resumed run skips the chunks whose rows are
unchanged and sends the others, so a file fixed after a refusal resumes instead of being
refused. Every event's ``$insert_id`` is derived from its content (or given), so a row sent
again, in a half-answered chunk or a changed one, is stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TextIO

import attrs

from mixtrack._config import Config
from mixtrack._delivery.circuit import Backoff, Circuit
from mixtrack._delivery.records import Records, dumps, split_records
from mixtrack._delivery.sender import Retrying, Send, Sender, Settled
from mixtrack._delivery.threads import drive
from mixtrack._progress import ProgressBar
from mixtrack.errors import ConfigError
from mixtrack.importer._rows import ColumnMap, Format, Row, count_rows, csv_header, read_rows
from mixtrack.transport import HttpxTransport, Transport

__all__ = ["ImportSummary", "RefusedRow", "import_file"]


@attrs.frozen
class RefusedRow:
    """A row that was not imported: the line it starts on and why."""

    line: int
    reason: str


@attrs.frozen
class ImportSummary:
    """What an import did. ``ok`` is False when some chunk could not be delivered.

    ``imported`` and ``rejected`` count every run of this checkpoint; ``imported_before`` and
    ``rejected_before`` are what the checkpoint already held when this run started, so
    ``imported - imported_before`` is this run's share.
    """

    rows: int
    imported: int
    rejected: int
    skipped_rows: int
    failed_chunks: int
    reasons: dict[str, int]
    seconds: float
    #: why chunks could not be delivered (run the same command again to resume them)
    errors: list[str] = attrs.field(factory=list)
    imported_before: int = 0
    rejected_before: int = 0
    #: refused rows by line, in file order (the first :data:`REFUSED_KEPT`)
    refused: list[RefusedRow] = attrs.field(factory=list)
    #: the run was stopped (Ctrl-C) before every chunk was sent; the checkpoint holds the rest
    interrupted: bool = False
    checkpoint: str = ""

    @property
    def ok(self) -> bool:
        return self.failed_chunks == 0 and not self.interrupted

    @property
    def imported_now(self) -> int:
        """Events this run imported."""
        return self.imported - self.imported_before

    @property
    def rejected_now(self) -> int:
        """Records refused in this run."""
        return self.rejected - self.rejected_before


#: Refused rows listed in a summary; the rest are counted in ``reasons`` (and written to
#: ``rejected_to`` whole).
REFUSED_KEPT = 1000
_SAVE_EVERY = 1.0  # seconds between checkpoint writes; a lost second is resent, stored once


@attrs.define
class _Chunk:
    """What the checkpoint remembers of a chunk that was answered."""

    imported: int
    refused: dict[int, str]  # position in the chunk -> reason


class _Checkpoint:
    """Chunks answered so far, by content digest, in a JSON file replaced atomically."""

    VERSION = 2

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        self.chunks: dict[str, _Chunk] = {}
        self._saved = 0.0
        if not (resume and path.exists()):
            return
        try:
            state = json.loads(path.read_text())
            if state.get("version") != self.VERSION:
                return  # chunks named by position: send again, stored once by $insert_id
            for digest, chunk in state["chunks"].items():
                refused = {int(k): str(v) for k, v in chunk["refused"].items()}
                self.chunks[digest] = _Chunk(int(chunk["imported"]), refused)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"checkpoint {path} cannot be read ({exc}): delete it or pass --restart"
            ) from None

    def record(self, digest: str, chunk: _Chunk) -> None:
        self.chunks[digest] = chunk
        if time.monotonic() - self._saved >= _SAVE_EVERY:
            self.save()

    def save(self) -> None:
        state = {
            "version": self.VERSION,
            "chunks": {d: attrs.asdict(c) for d, c in self.chunks.items()},
        }
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.path)
        self._saved = time.monotonic()


def _digest(rows: list[Row]) -> str:
    content = hashlib.sha256()
    for row in rows:
        content.update(dumps(row.message) if row.message is not None else row.raw.encode())
        content.update(b"\n")
    return content.hexdigest()


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Tally:
    """This run's counts and refused rows, shared by the delivery threads."""

    def __init__(self, rejected_to: TextIO | None) -> None:
        self.lock = threading.Lock()
        self.rows = self.skipped = self.failed = 0
        self.imported = self.rejected = 0
        self.imported_before = self.rejected_before = 0
        self.reasons: Counter[str] = Counter()
        self.refused: list[RefusedRow] = []
        self.errors: list[str] = []
        self.rejected_to = rejected_to
        # Chunks finish in any order; refused rows are written in file order, so rows of a
        # chunk wait here until the chunks before it have finished (a few chunks at most).
        self._waiting: dict[int, list[str]] = {}
        self._next = 0

    def refuse(self, index: int, rows: list[Row], refused: dict[int, str]) -> None:
        """Books chunk ``index`` (every chunk, once, even with nothing refused)."""
        for position in sorted(refused):
            self.reasons[refused[position]] += 1
            if len(self.refused) < REFUSED_KEPT:
                self.refused.append(RefusedRow(rows[position].line, refused[position]))
        self._waiting[index] = [rows[position].raw for position in sorted(refused)]
        while self._next in self._waiting:
            self._write(self._waiting.pop(self._next))
            self._next += 1

    def close(self) -> None:
        for index in sorted(self._waiting):
            self._write(self._waiting.pop(index))

    def _write(self, raws: list[str]) -> None:
        if self.rejected_to is not None:
            self.rejected_to.writelines(raw + "\n" for raw in raws)


def import_file(
    path: str | os.PathLike[str],
    *,
    token: str,
    api_host: str = "https://api.mixpanel.com",
    api_secret: str | None = None,
    service_account: tuple[str, str] | None = None,
    project_id: str | None = None,
    fmt: Format | None = None,
    columns: ColumnMap | None = None,
    batch_size: int = 2000,
    workers: int = 4,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = True,
    transport: Transport | None = None,
    progress: TextIO | None = None,
    max_attempts: int | None = None,
    max_backoff: float = 60.0,
    max_elapsed: float = 600.0,
    backoff_initial: float = 2.0,
    stop: threading.Event | None = None,
    rejected_to: TextIO | None = None,
) -> ImportSummary:
    """Imports a NDJSON or CSV file of historical events through ``/import``.

    ``stop``: set it (from a signal handler, say) to end the run after the requests in flight,
    with the checkpoint saved. ``rejected_to``: refused rows are written there as they were in
    the file (after the header, for CSV), ready to be fixed and imported again.

    >>> summary = import_file("history.ndjson", token="PROJECT_TOKEN", api_secret="SECRET",
    ...                       api_host="http://127.0.0.1:8765")  # doctest: +SKIP
    >>> summary.imported, summary.rejected, summary.refused[0]  # doctest: +SKIP
    (19998, 2, RefusedRow(line=17, reason="no time in column 'time'"))
    """
    source = Path(path)
    if not source.is_file():
        raise ConfigError(f"no such file: {source}")
    fmt = fmt or ("csv" if source.suffix.lower() == ".csv" else "ndjson")
    config = Config(
        token=token,
        api_host=api_host,
        api_secret=api_secret,
        service_account=service_account,
        project_id=project_id,
        batch_size=batch_size,
        max_attempts=max_attempts,
        max_backoff=max_backoff,
        max_elapsed=max_elapsed,
        backoff_initial=backoff_initial,
    )
    circuit = Circuit(Backoff.of(config))
    columns = columns or ColumnMap()
    stop = stop or threading.Event()
    bar = ProgressBar(count_rows(source, fmt, columns), "rows", progress)
    state = _Checkpoint(Path(checkpoint or f"{source}.mixtrack-checkpoint"), resume=resume)
    if rejected_to is not None and fmt == "csv":
        rejected_to.write(csv_header(source, columns).rstrip("\r\n") + "\n")
    sender = transport or HttpxTransport(max_connections=workers)
    started = time.monotonic()
    tally = _Tally(rejected_to)

    def say(text: str) -> None:
        with tally.lock:
            bar.say(text)

    def run_chunk(index: int, digest: str, chunk: list[Row]) -> None:
        local = {i: row.reason or "" for i, row in enumerate(chunk) if row.message is None}
        sent = [i for i, row in enumerate(chunk) if row.message is not None]
        messages = [chunk[i].message for i in sent]
        imported, refused, failure = _deliver(config, sender, circuit, messages, stop, say)
        with tally.lock:
            if failure:
                tally.failed += 1
                tally.errors.append(f"lines {chunk[0].line}-{chunk[-1].line}: {failure}")
                tally.refuse(index, chunk, {})
                return
            answered = {**local, **{sent[i]: reason for i, reason in refused.items()}}
            tally.imported += imported
            tally.rejected += len(answered)
            tally.refuse(index, chunk, answered)
            state.record(digest, _Chunk(imported, answered))

    def show() -> None:
        done = tally.imported_before + tally.imported
        bar.update(tally.rows, _note(done, tally.rejected_before + tally.rejected, started))

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mixtrack-import") as pool:
            running: set[Future[None]] = set()
            chunks = _chunks(read_rows(source, fmt, columns, token), batch_size)
            for index, chunk in enumerate(chunks):
                if stop.is_set():
                    break
                digest = _digest(chunk)
                tally.rows += len(chunk)
                answered = state.chunks.get(digest)
                if answered is not None:
                    with tally.lock:
                        tally.skipped += len(chunk)
                        tally.imported_before += answered.imported
                        tally.rejected_before += len(answered.refused)
                        tally.refuse(index, chunk, answered.refused)
                    continue
                while len(running) >= workers * 2:
                    finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                    show()
                running.add(pool.submit(run_chunk, index, digest, chunk))
            while running:
                finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                show()
    finally:
        tally.close()
        state.save()
        if transport is None:
            sender.close()
    imported = tally.imported_before + tally.imported
    rejected = tally.rejected_before + tally.rejected
    bar.update(tally.rows, _note(imported, rejected, started), final=True)
    return ImportSummary(
        rows=tally.rows,
        imported=imported,
        rejected=rejected,
        skipped_rows=tally.skipped,
        failed_chunks=tally.failed,
        reasons=dict(tally.reasons.most_common()),
        seconds=time.monotonic() - started,
        errors=tally.errors,
        imported_before=tally.imported_before,
        rejected_before=tally.rejected_before,
        refused=sorted(tally.refused, key=lambda r: r.line),
        interrupted=stop.is_set(),
        checkpoint=str(state.path),
    )


def _note(imported: int, rejected: int, started: float) -> str:
    rate = imported / max(time.monotonic() - started, 1e-9)
    return f"{imported:,} imported  {rejected:,} rejected  {rate:,.0f} ev/s"


def _deliver(
    config: Config,
    transport: Transport,
    circuit: Circuit,
    messages: list[Any],
    stop: threading.Event,
    say: Callable[[str], None],
) -> tuple[int, dict[int, str], str]:
    """Sends one chunk (cut by bytes, split on 413); returns (imported, refusal reason by
    position in ``messages``, why some could not be delivered: empty when all settled)."""
    imported = 0
    refused: dict[int, str] = {}
    failures: list[str] = []
    offset = 0
    for records in split_records([dumps(m) for m in messages], config.max_batch_bytes):

        def book(event: Send | Settled | Retrying, base: int = offset) -> None:
            nonlocal imported
            if isinstance(event, Retrying):
                say(f"/import failed ({event.detail}); retrying in {event.wait:.1f}s")
                return
            if not isinstance(event, Settled):
                return
            if event.fate == "sent":
                imported += event.count
            elif event.fate == "refused":
                imported += event.count - event.rejected
                answer = event.answer
                failed = dict(answer.failed) if answer is not None else {}
                if len(failed) != event.rejected:
                    failed = dict.fromkeys(range(event.count), event.detail)
                for index, reason in failed.items():
                    refused[base + event.start + index] = reason
            else:
                failures.append(event.detail)

        sender = Sender(config, "import", Records.of(records), circuit)
        if not drive(sender, transport, lambda seconds: not stop.wait(seconds), book):
            failures.append("stopped before it was answered")
        offset += len(records)
    return imported, refused, "; ".join(failures)
