"""``mixtrack import``: the command-line face of :func:`mixtrack.importer.import_file`.

Exit codes: 0 when every row was imported; 1 when some row was refused (``--allow-rejected``
accepts that) or some chunk could not be delivered (run the same command again to resume);
2 on a usage problem, such as a CSV header without the event, distinct_id or time column, an
undecodable byte, or an ``--api-host`` that cannot be reached; 130 when stopped by Ctrl-C
(the checkpoint is saved: the same command resumes).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from contextlib import ExitStack
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mixtrack.importer import ColumnMap, ImportSummary

__all__ = ["register"]

_LINES_SHOWN = 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="bulk-load historical events from NDJSON or CSV into /import",
        description="Sends a history file to /import in gzip batches of up to 2000 events, "
        "several requests at a time, with retries and a checkpoint file so that an interrupted "
        "run resumes where it stopped. Prints what was imported and why records were refused.",
    )
    parser.add_argument("file", help="a .ndjson/.jsonl or .csv file")
    parser.add_argument("--format", choices=["ndjson", "csv"], help="default: from the suffix")
    parser.add_argument(
        "--token",
        default=os.environ.get("MIXTRACK_TOKEN"),
        help="project token (default: $MIXTRACK_TOKEN)",
    )
    parser.add_argument(
        "--api-host",
        default=os.environ.get("MIXTRACK_API_HOST", "https://api.mixpanel.com"),
        help="Mixpanel or a collector (default: $MIXTRACK_API_HOST or Mixpanel)",
    )
    parser.add_argument(
        "--api-secret",
        default=os.environ.get("MIXTRACK_API_SECRET"),
        help="project secret (default: $MIXTRACK_API_SECRET)",
    )
    parser.add_argument(
        "--service-account",
        metavar="USER:SECRET",
        help="service account credentials, with --project-id",
    )
    parser.add_argument("--project-id")
    parser.add_argument("--event-column", default="event")
    parser.add_argument("--distinct-id-column", default="distinct_id")
    parser.add_argument("--time-column", default="time")
    parser.add_argument("--insert-id-column", default="$insert_id")
    parser.add_argument(
        "--properties-column",
        help="one column holding a JSON object of properties "
        "(default: every other column is a property)",
    )
    parser.add_argument(
        "--time-format",
        default="auto",
        help="strptime format of the time column, read as UTC "
        "(default: epoch seconds/ms or ISO 8601)",
    )
    parser.add_argument("--batch-size", type=int, default=2000, help="events per request (2000)")
    parser.add_argument("--workers", type=int, default=4, help="requests in flight (4)")
    parser.add_argument("--checkpoint", help="default: FILE.mixtrack-checkpoint")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="ignore an existing checkpoint and start from the top",
    )
    parser.add_argument(
        "--delimiter",
        help="CSV field delimiter, e.g. ';' or '\\t' (default: detected among , ; tab |)",
    )
    parser.add_argument(
        "--column-types",
        metavar="NAME=TYPE,...",
        default="",
        help="CSV property types, TYPE one of str, int, float, bool, json "
        "(e.g. seats=int,zip=str); other columns are inferred: whole numbers and decimals "
        "without leading zeros become numbers, true/false booleans, the rest text",
    )
    parser.add_argument(
        "--no-infer-types",
        action="store_true",
        help="send CSV cells not named in --column-types as text",
    )
    parser.add_argument(
        "--allow-rejected",
        action="store_true",
        help="exit 0 even when some rows were refused",
    )
    parser.add_argument(
        "--encoding",
        default="utf-8",
        help="the file's text encoding, e.g. cp1252 or latin-1 for a CSV saved by Excel (utf-8)",
    )
    parser.add_argument(
        "--rejected",
        metavar="FILE",
        help="write the refused rows to FILE as they are in the input (with the CSV header), "
        "to fix and import again",
    )
    parser.add_argument(
        "--max-elapsed",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="give up on a chunk the collector has not accepted after this long (600); "
        "the same command resumes it",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mixtrack.errors import ConfigError, MixtrackError
    from mixtrack.importer import ColumnMap
    from mixtrack.importer._reach import check_reachable
    from mixtrack.importer._rows import parse_column_types
    from mixtrack.importer._text import check_encoding

    if not args.token:
        print("mixtrack import: no token: pass --token or set MIXTRACK_TOKEN", file=sys.stderr)
        return 2
    account = None
    if args.service_account:
        user, _, secret = args.service_account.partition(":")
        if not user or not secret:
            print("mixtrack import: --service-account takes USER:SECRET", file=sys.stderr)
            return 2
        account = (user, secret)
    delimiter = args.delimiter
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    try:
        columns = ColumnMap(
            event=args.event_column,
            distinct_id=args.distinct_id_column,
            time=args.time_column,
            insert_id=args.insert_id_column,
            properties=args.properties_column,
            time_format=args.time_format,
            delimiter=delimiter,
            column_types=parse_column_types(args.column_types),
            infer_types=not args.no_infer_types,
            encoding=args.encoding,
        )
        check_encoding(args.encoding)
        if not os.path.isfile(args.file):
            raise ConfigError(f"no such file: {args.file}")
        check_reachable(args.api_host)
        with ExitStack() as stack:
            rejected_to = None
            if args.rejected:
                rejected_to = stack.enter_context(open(args.rejected, "w", encoding=args.encoding))
            stop = stack.enter_context(_stop_on_interrupt())
            summary = _import(args, columns, account, rejected_to, stop)
    except (MixtrackError, OSError) as exc:
        print(f"mixtrack import: {exc}", file=sys.stderr)
        return 2
    return _report(summary, args)


def _import(
    args: argparse.Namespace,
    columns: ColumnMap,
    account: tuple[str, str] | None,
    rejected_to: TextIO | None,
    stop: threading.Event,
) -> ImportSummary:
    from mixtrack.importer import import_file

    return import_file(
        args.file,
        token=args.token,
        api_host=args.api_host,
        api_secret=args.api_secret,
        service_account=account,
        project_id=args.project_id,
        fmt=args.format,
        columns=columns,
        batch_size=args.batch_size,
        workers=args.workers,
        checkpoint=args.checkpoint,
        resume=not args.restart,
        progress=None if args.quiet else sys.stderr,
        max_elapsed=args.max_elapsed,
        stop=stop,
        rejected_to=rejected_to,
    )


class _stop_on_interrupt:
    """The first Ctrl-C sets the event (the import stops after the requests in flight, the
    checkpoint saved); a second one leaves at once, which the atomic checkpoint allows."""

    def __enter__(self) -> threading.Event:
        self.event = threading.Event()
        self.previous = signal.signal(signal.SIGINT, self._interrupt)
        return self.event

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self.previous)

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            print("\nmixtrack import: stopped", file=sys.stderr, flush=True)
            os._exit(130)
        self.event.set()
        print(
            "\nmixtrack import: stopping after the requests in flight (Ctrl-C again to leave "
            "at once)",
            file=sys.stderr,
            flush=True,
        )


def _report(summary: ImportSummary, args: argparse.Namespace) -> int:
    print(f"rows read:        {summary.rows:,}")
    if summary.skipped_rows:
        print(
            f"resumed:          {summary.skipped_rows:,} rows were done by an earlier run "
            f"({summary.imported_before:,} imported, {summary.rejected_before:,} refused), "
            "skipped now"
        )
        print(f"imported now:     {summary.imported_now:,}")
        print(f"rejected now:     {summary.rejected_now:,}")
        print(f"imported, all runs: {summary.imported:,}")
        print(f"rejected, all runs: {summary.rejected:,}")
    else:
        print(f"imported:         {summary.imported:,}")
        print(f"rejected:         {summary.rejected:,}")
    for reason, count in list(summary.reasons.items())[:10]:
        print(f"  {count:>8,}  {reason}")
    for refused in summary.refused[:_LINES_SHOWN]:
        print(f"refused: line {refused.line}: {refused.reason}")
    if summary.rejected > _LINES_SHOWN and not args.rejected:
        print(f"(first {_LINES_SHOWN} refused rows shown; --rejected FILE writes them all out)")
    if args.rejected and summary.rejected:
        print(f"refused rows written to {args.rejected}: fix them there and import that file")
    for error in summary.errors:
        print(f"not delivered: {error}")
    if summary.interrupted:
        print(
            f"mixtrack import: interrupted; {summary.imported_now:,} events imported in this run, "
            f"checkpoint saved in {summary.checkpoint}: run the same command to resume",
            file=sys.stderr,
        )
        return 130
    if not summary.ok:
        print("some chunks were not delivered: run the same command again to resume")
        return 1
    print(f"done in {summary.seconds:.1f}s")
    if summary.rejected and not args.allow_rejected:
        print(
            f"mixtrack import: {summary.rejected:,} row(s) refused (reasons above); fix them "
            "and import them again, or pass --allow-rejected to accept this",
            file=sys.stderr,
        )
        return 1
    return 0
