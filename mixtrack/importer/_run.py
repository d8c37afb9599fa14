"""Sending a history file to ``/import``: parallel gzip batches, retries, a checkpoint.

Each chunk is delivered by the same sender as the clients' (:mod:`mixtrack._delivery`): the
same retries and backoff, one probe at a time while the collector is down (the workers share
one circuit), 413 splits, and the same log lines.

The file is cut into chunks of ``batch_size`` rows; chunk *k* is always the same rows, so a
checkpoint can list the chunks done and a resumed run skips them. A chunk that failed (retry
budget spent) is not marked done: run the same command again to resume. Records of a chunk that
was only half answered are sent again with the same ``$insert_id`` and Mixpanel keeps one copy.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TextIO

import attrs

from mixtrack._config import Config
from mixtrack._delivery import Retrying, Send, Sender, Settled
from mixtrack._progress import ProgressBar
from mixtrack._retry import Backoff, Circuit
from mixtrack._wire import Records, dumps, split_records
from mixtrack._worker import drive
from mixtrack.errors import ConfigError
from mixtrack.importer._rows import ColumnMap, Format, Row, count_rows, read_rows
from mixtrack.transport import HttpxTransport, Transport

__all__ = ["ImportSummary", "import_file"]


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

    @property
    def ok(self) -> bool:
        return self.failed_chunks == 0

    @property
    def imported_now(self) -> int:
        """Events this run imported."""
        return self.imported - self.imported_before

    @property
    def rejected_now(self) -> int:
        """Records refused in this run."""
        return self.rejected - self.rejected_before


class _Checkpoint:
    """Chunks done so far, kept in a JSON file replaced atomically after each chunk."""

    def __init__(self, path: Path, source: Path, batch_size: int, *, resume: bool) -> None:
        self.path = path
        stat = source.stat()
        self.identity = {
            "source": str(source.resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "batch_size": batch_size,
        }
        self.done: set[int] = set()
        self.imported = self.rejected = 0
        self.reasons: Counter[str] = Counter()
        if resume and path.exists():
            state = json.loads(path.read_text())
            if {k: state.get(k) for k in self.identity} != self.identity:
                raise ConfigError(
                    f"checkpoint {path} belongs to another file or batch size "
                    f"({state.get('source')}, batch size {state.get('batch_size')}); "
                    "delete it or pass --restart"
                )
            self.done = set(state["done"])
            self.imported, self.rejected = state["imported"], state["rejected"]
            self.reasons.update(state["reasons"])

    def record(self, chunk: int, imported: int, reasons: Sequence[str]) -> None:
        self.done.add(chunk)
        self.imported += imported
        self.rejected += len(reasons)
        self.reasons.update(reasons)
        state = {
            **self.identity,
            "done": sorted(self.done),
            "imported": self.imported,
            "rejected": self.rejected,
            "reasons": dict(self.reasons),
        }
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.path)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[tuple[int, list[Row]]]:
    chunk: list[Row] = []
    number = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield number, chunk
            number += 1
            chunk = []
    if chunk:
        yield number, chunk


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
) -> ImportSummary:
    """Imports a NDJSON or CSV file of historical events through ``/import``.

    >>> summary = import_file("history.ndjson", token="PROJECT_TOKEN", api_secret="SECRET",
    ...                       api_host="http://127.0.0.1:8765")  # doctest: +SKIP
    >>> summary.imported, summary.rejected, summary.reasons  # doctest: +SKIP
    (19998, 2, {"properties.time: 'properties.time' is invalid": 2})
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
    state = _Checkpoint(
        Path(checkpoint or f"{source}.mixtrack-checkpoint"), source, batch_size, resume=resume
    )
    sender = transport or HttpxTransport(max_connections=workers)
    columns = columns or ColumnMap()
    bar = ProgressBar(count_rows(source, fmt, columns), "rows", progress)
    before = (state.imported, state.rejected)
    started = time.monotonic()
    lock = threading.Lock()
    counts = {"rows": 0, "skipped": 0, "failed": 0}
    errors: list[str] = []

    def run_chunk(number: int, chunk: list[Row]) -> None:
        reasons = [f"row {row.number}: {row.reason}" for row in chunk if row.message is None]
        messages = [row.message for row in chunk if row.message is not None]
        imported, refused, failure = _deliver(config, sender, circuit, messages)
        if failure:
            with lock:
                counts["failed"] += 1
                rows = f"rows {chunk[0].number}-{chunk[-1].number}"
                errors.append(f"chunk {number} ({rows}): {failure}")
            return
        with lock:
            state.record(number, imported, [*_summarise(reasons), *refused])

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mixtrack-import") as pool:
        running: set[Future[None]] = set()
        for number, chunk in _chunks(read_rows(source, fmt, columns, token), batch_size):
            counts["rows"] += len(chunk)
            if number in state.done:
                counts["skipped"] += len(chunk)
                continue
            while len(running) >= workers * 2:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                bar.update(counts["rows"], _note(state.imported, state.rejected, started))
            running.add(pool.submit(run_chunk, number, chunk))
        for future in running:
            future.result()
    bar.update(counts["rows"], _note(state.imported, state.rejected, started), final=True)
    if transport is None:
        sender.close()
    return ImportSummary(
        rows=counts["rows"],
        imported=state.imported,
        rejected=state.rejected,
        skipped_rows=counts["skipped"],
        failed_chunks=counts["failed"],
        reasons=dict(state.reasons.most_common()),
        seconds=time.monotonic() - started,
        errors=errors,
        imported_before=before[0],
        rejected_before=before[1],
    )


def _note(imported: int, rejected: int, started: float) -> str:
    rate = imported / max(time.monotonic() - started, 1e-9)
    return f"{imported:,} imported  {rejected:,} rejected  {rate:,.0f} ev/s"


def _summarise(reasons: list[str]) -> list[str]:
    """Local reasons without the row number, so the summary groups them."""
    return [reason.split(": ", 1)[1] for reason in reasons]


def _deliver(
    config: Config, transport: Transport, circuit: Circuit, messages: list[dict[str, Any]]
) -> tuple[int, list[str], str]:
    """Sends one chunk (cut by bytes, split on 413); returns (imported, refusal reasons, why
    some could not be delivered: empty when all settled)."""
    imported = 0
    refused: list[str] = []
    failures: list[str] = []
    for records in split_records([dumps(m) for m in messages], config.max_batch_bytes):

        def book(event: Send | Settled | Retrying) -> None:
            nonlocal imported
            if not isinstance(event, Settled):
                return
            if event.fate == "sent":
                imported += event.count
            elif event.fate == "refused":
                imported += event.count - event.rejected
                answer = event.answer
                reasons = list(answer.failed.values()) if answer is not None else []
                if len(reasons) != event.rejected:
                    reasons = [event.detail] * event.rejected
                refused.extend(reasons)
            else:
                failures.append(event.detail)

        sender = Sender(config, "import", Records.of(records), circuit)
        drive(sender, transport, _sleep, book)
    return imported, refused, "; ".join(failures)


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True
