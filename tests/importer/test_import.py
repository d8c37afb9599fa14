"""``mixtrack import`` against the real local collector."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from mixtrack.importer import ColumnMap, import_file
from mixtrack.importer._rows import read_rows


def write_ndjson(path: Path, rows: int, *, bad_every: int = 0) -> Path:
    with path.open("w") as file:
        for i in range(rows):
            if bad_every and i % bad_every == bad_every - 1:
                file.write('{"event": "Purchase", "distinct_id": "u"}\n')  # no time
                continue
            if i % 2:
                record = {
                    "event": "Purchase",
                    "properties": {"distinct_id": f"u{i % 50}", "time": 1_600_000_000 + i, "i": i},
                }
            else:
                record = {
                    "event": "Purchase",
                    "distinct_id": f"u{i % 50}",
                    "time": 1_600_000_000_000 + i * 1000,
                    "i": i,
                }
            file.write(json.dumps(record) + "\n")
    return path


def test_ndjson_both_shapes_arrive_with_local_rejections_reported(tmp_path, mixtrack_collector):
    source = write_ndjson(tmp_path / "history.ndjson", 5000, bad_every=1000)
    summary = import_file(source, token="tok", api_host=mixtrack_collector.url, batch_size=1000)
    assert summary.ok and summary.rows == 5000
    assert summary.imported == 4995 and summary.rejected == 5
    assert summary.reasons == {"no time in column 'time'": 5}
    stored = mixtrack_collector.events("Purchase")
    assert len(stored) == 4995
    first = next(e for e in stored if e["properties"]["i"] == 1)
    assert first["properties"]["time"] in (1_600_000_001, 1_600_000_001_000)


def test_csv_with_column_mapping_and_a_time_format(tmp_path, mixtrack_collector):
    source = tmp_path / "orders.csv"
    with source.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["user", "what", "when", "revenue"])
        writer.writerow(["u1", "Order completed", "01/02/2021 10:30", "9.5"])
        writer.writerow(["u2", "Order completed", "15/03/2021 08:00", "29"])
        writer.writerow(["u3", "Order completed", "not a date", "1"])
    columns = ColumnMap(event="what", distinct_id="user", time="when", time_format="%d/%m/%Y %H:%M")
    summary = import_file(source, token="tok", api_host=mixtrack_collector.url, columns=columns)
    assert summary.imported == 2 and summary.rejected == 1
    assert "does not match the format" in next(iter(summary.reasons))
    (order,) = mixtrack_collector.events("Order completed", distinct_id="u1")
    assert order["properties"]["revenue"] == 9.5  # typed by inference
    assert order["properties"]["time"] == 1612175400000


def test_partial_400_from_the_collector_counts_mixpanel_reasons(tmp_path, mixtrack_collector):
    source = write_ndjson(tmp_path / "h.ndjson", 100)
    mixtrack_collector.faults("partial", indices=[3, 7], count=1)
    summary = import_file(source, token="tok", api_host=mixtrack_collector.url, workers=1)
    assert summary.imported == 98 and summary.rejected == 2
    assert sum(summary.reasons.values()) == 2
    assert len(mixtrack_collector.events("Purchase")) == 98


def test_interrupted_run_resumes_from_the_checkpoint_without_duplicates(
    tmp_path, mixtrack_collector
):
    source = write_ndjson(tmp_path / "big.ndjson", 6000)
    # the second chunk fails for longer than the retry budget: the run ends incomplete
    mixtrack_collector.faults("status", status=503, count=3, endpoints="import")
    first = import_file(
        source,
        token="tok",
        api_host=mixtrack_collector.url,
        batch_size=1000,
        workers=1,
        max_attempts=3,
        max_backoff=0.01,
    )
    assert not first.ok and first.failed_chunks == 1 and first.imported == 5000
    assert "503" in first.errors[0]
    second = import_file(source, token="tok", api_host=mixtrack_collector.url, batch_size=1000)
    assert second.ok and second.skipped_rows == 5000 and second.imported == 6000
    stored = mixtrack_collector.events("Purchase")
    assert sorted(e["properties"]["i"] for e in stored) == list(range(6000))
    # running it again sends nothing; --restart resends, and the collector drops duplicates
    again = import_file(source, token="tok", api_host=mixtrack_collector.url, batch_size=1000)
    assert again.skipped_rows == 6000
    restart = import_file(source, token="tok", api_host=mixtrack_collector.url, resume=False)
    assert restart.imported == 6000
    assert len(mixtrack_collector.events("Purchase")) == 6000
    assert mixtrack_collector.stats()["duplicates_dropped"] == 6000


def test_a_changed_file_resumes_by_content(tmp_path, mixtrack_collector):
    source = write_ndjson(tmp_path / "a.ndjson", 3000)
    first = import_file(source, token="tok", api_host=mixtrack_collector.url, batch_size=1000)
    assert first.ok and first.imported == 3000
    # the last 500 rows change: only the chunk holding them is sent again
    lines = source.read_text().splitlines(keepends=True)
    changed = [line.replace('"i": ', '"fixed": true, "i": ') for line in lines[2500:]]
    source.write_text("".join(lines[:2500] + changed))
    second = import_file(source, token="tok", api_host=mixtrack_collector.url, batch_size=1000)
    assert second.ok and second.skipped_rows == 2000 and second.imported_now == 1000
    stored = mixtrack_collector.events("Purchase")
    # the 500 unchanged rows of the resent chunk were stored once; the changed ones are new
    assert len(stored) == 3500
    assert sum(1 for e in stored if e["properties"].get("fixed")) == 500


def test_insert_ids_are_stable_across_reads(tmp_path):
    source = write_ndjson(tmp_path / "s.ndjson", 50)
    first = [
        r.message["properties"]["$insert_id"] for r in read_rows(source, "ndjson", ColumnMap(), "t")
    ]
    second = [
        r.message["properties"]["$insert_id"] for r in read_rows(source, "ndjson", ColumnMap(), "t")
    ]
    assert first == second and len(set(first)) == 50


def run_import(source, url, *args):
    return subprocess.run(
        [sys.executable, "-m", "mixtrack.cli", "import", str(source), "--token", "tok",
         "--api-host", url, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_the_command_line_prints_a_summary_and_fails_on_refused_rows(tmp_path, mixtrack_collector):
    source = write_ndjson(tmp_path / "cli.ndjson", 300, bad_every=100)
    result = run_import(source, mixtrack_collector.url, "--batch-size", "100")
    assert result.returncode == 1, result.stderr
    assert "imported:         297" in result.stdout
    assert "rejected:         3" in result.stdout
    assert "no time in column 'time'" in result.stdout
    assert "rows" in result.stderr  # the progress bar
    assert "3 row(s) refused (reasons above)" in result.stderr
    assert "--allow-rejected" in result.stderr
    allowed = run_import(source, mixtrack_collector.url, "--allow-rejected", "--restart")
    assert allowed.returncode == 0, allowed.stderr
    clean = write_ndjson(tmp_path / "clean.ndjson", 50)
    assert run_import(clean, mixtrack_collector.url).returncode == 0


def test_the_importer_retries_like_the_clients_and_says_so(tmp_path, mixtrack_collector, caplog):
    source = write_ndjson(tmp_path / "retried.ndjson", 3000)
    mixtrack_collector.faults("status", status=503, count=2, endpoints="import")
    with caplog.at_level(logging.INFO, logger="mixtrack"):
        summary = import_file(
            source,
            token="tok",
            api_host=mixtrack_collector.url,
            batch_size=1000,
            workers=2,
            backoff_initial=0.01,
            max_backoff=0.05,
        )
    assert summary.ok and summary.imported == 3000
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 2 and all("/import failed (HTTP 503" in line for line in retries)
    stored = mixtrack_collector.events("Purchase")
    assert sorted(e["properties"]["i"] for e in stored) == list(range(3000))


def write_csv(path, rows, delimiter):
    with path.open("w", newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(["event", "distinct_id", "time", "seats", "zip", "paid", "plan"])
        for i in range(rows):
            writer.writerow(
                ["Subscribed", f"u{i}", 1_600_000_000 + i, str(i), f"0{i:04d}", "true", "pro"]
            )
    return path


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_csv_delimiter_is_detected(tmp_path, mixtrack_collector, delimiter):
    source = write_csv(tmp_path / "subs.csv", 20, delimiter)
    summary = import_file(source, token="tok", api_host=mixtrack_collector.url)
    assert summary.ok and summary.imported == 20 and summary.rejected == 0
    [first] = mixtrack_collector.events("Subscribed", distinct_id="u3")
    props = first["properties"]
    assert (props["seats"], props["zip"], props["paid"], props["plan"]) == (3, "00003", True, "pro")


def test_column_types_and_an_explicit_delimiter(tmp_path, mixtrack_collector):
    source = write_csv(tmp_path / "subs.tsv", 5, "\t")
    result = run_import(
        source, mixtrack_collector.url, "--format", "csv", "--delimiter", "\\t",
        "--column-types", "seats=str,zip=int", "--no-infer-types",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [first] = mixtrack_collector.events("Subscribed", distinct_id="u2")
    props = first["properties"]
    assert (props["seats"], props["zip"], props["paid"]) == ("2", 2, "true")
    bad = run_import(
        source, mixtrack_collector.url, "--format", "csv", "--column-types", "seats=num"
    )
    assert bad.returncode == 2
    assert "column type 'seats=num' must be NAME=TYPE with TYPE one of str, int" in bad.stderr


def test_a_missing_column_names_the_header_found(tmp_path, mixtrack_collector):
    source = tmp_path / "wrong.csv"
    source.write_text("name;user;when\nSigned up;u1;1600000000\n")
    result = run_import(source, mixtrack_collector.url)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "mixtrack import: the CSV header has no column 'event' or 'distinct_id' or 'time'; the "
        "header found (split on ';') is: 'name', 'user', 'when'. Name the columns with "
        "--event-column for 'event', --distinct-id-column for 'distinct_id', --time-column for "
        "'time', or pass --delimiter if the file is split by another character"
    )
    mapped = run_import(
        source, mixtrack_collector.url, "--event-column", "name", "--distinct-id-column", "user",
        "--time-column", "when",
    )  # fmt: skip
    assert mapped.returncode == 0, mapped.stderr
    assert mixtrack_collector.events("Signed up", distinct_id="u1")


def test_a_resumed_run_says_what_it_imported_itself(tmp_path, mixtrack_collector):
    source = write_ndjson(tmp_path / "resume.ndjson", 3000, bad_every=1000)
    mixtrack_collector.faults("status", status=503, count=3, endpoints="import")
    first = import_file(
        source, token="tok", api_host=mixtrack_collector.url, batch_size=1000, workers=1,
        max_attempts=3, max_backoff=0.01,
    )  # fmt: skip
    assert first.failed_chunks == 1 and first.imported == 1998 and first.rejected == 2
    result = run_import(source, mixtrack_collector.url, "--batch-size", "1000", "--allow-rejected")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "resumed:          2,000 rows were done by an earlier run (1,998 imported, 2 refused), "
        "skipped now"
    ) in lines
    assert "imported now:     999" in lines and "rejected now:     1" in lines
    assert "imported, all runs: 2,997" in lines and "rejected, all runs: 3" in lines
