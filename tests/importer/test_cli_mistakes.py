"""``mixtrack import`` as a newcomer runs it: through the real command line, against the
real collector (or a port where nothing listens)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mixtrack.testing import Collector

HEADER = "event,distinct_id,time,plan\n"


def mixtrack(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixtrack.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def import_args(source: Path, url: str, *more: str) -> list[str | Path]:
    return ["import", source, "--token", "tok", "--api-host", url, "--quiet", *more]


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signups(path: Path, rows: int, *, bad: set[int] = frozenset()) -> Path:  # type: ignore[assignment]
    lines = [HEADER]
    for i in range(rows):
        when = "not a date" if i in bad else str(1_600_000_000 + i)
        lines.append(f"Signed up,u{i},{when},pro\n")
    path.write_text("".join(lines))
    return path


def test_a_host_that_is_down_is_one_line_at_once(tmp_path: Path) -> None:
    source = signups(tmp_path / "s.csv", 5)
    # the subprocess timeout bounds "at once": the retry budget would take ten minutes
    result = mixtrack(*import_args(source, f"http://127.0.0.1:{dead_port()}"), timeout=30)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mixtrack import: cannot reach http://127.0.0.1:")
    assert "connection refused" in line and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "s.csv.mixtrack-checkpoint").exists()


def test_refused_rows_by_line_then_the_fixed_file_stores_each_row_once(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    source = signups(tmp_path / "s.csv", 10, bad={3, 7})
    rejected = tmp_path / "refused.csv"
    first = mixtrack(
        *import_args(source, mixtrack_collector.url, "--batch-size", "4", "--rejected", rejected)
    )
    assert first.returncode == 1, first.stderr
    # data rows start on line 2: rows 3 and 7 are on lines 5 and 9
    assert "refused: line 5: time 'not a date' is neither" in first.stdout
    assert "refused: line 9: time 'not a date' is neither" in first.stdout
    assert (
        rejected.read_text()
        == HEADER + "Signed up,u3,not a date,pro\nSigned up,u7,not a date,pro\n"
    )
    assert len(mixtrack_collector.events("Signed up")) == 8
    # fix the file in place and run the same command: resumed by content, not refused
    signups(source, 10)
    second = mixtrack(*import_args(source, mixtrack_collector.url, "--batch-size", "4"))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resumed:          2 rows were done by an earlier run" in second.stdout  # lines 10-11
    stored = mixtrack_collector.events("Signed up")
    assert sorted(e["properties"]["distinct_id"] for e in stored) == sorted(
        f"u{i}" for i in range(10)
    )
    # --restart sends everything again: the content-derived $insert_ids keep one copy each
    again = mixtrack(*import_args(source, mixtrack_collector.url, "--restart"))
    assert again.returncode == 0, again.stderr
    assert len(mixtrack_collector.events("Signed up")) == 10


def test_latin1_is_one_line_without_encoding_and_imports_with_it(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes((HEADER + "Signed up,u1,1600000000,Café\n").encode("latin-1"))
    plain = mixtrack(*import_args(source, mixtrack_collector.url))
    assert plain.returncode == 2
    [line] = plain.stderr.strip().splitlines()
    assert line == (
        "mixtrack import: excel.csv, line 2, column 28: byte 0xe9 is not valid utf-8; a file "
        "saved by Excel or another Windows program is usually cp1252: pass --encoding cp1252 "
        "(or --encoding latin-1)"
    )
    assert mixtrack_collector.events("Signed up") == []
    decoded = mixtrack(*import_args(source, mixtrack_collector.url, "--encoding", "latin-1"))
    assert decoded.returncode == 0, decoded.stderr
    [event] = mixtrack_collector.events("Signed up")
    assert event["properties"]["plan"] == "Café"


def test_a_binary_file_and_an_unknown_encoding_are_one_line(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    binary = tmp_path / "photo.ndjson"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe")
    result = mixtrack(*import_args(binary, mixtrack_collector.url))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "photo.ndjson, line 1, column 1: byte 0x89 is not valid utf-8" in line
    text = tmp_path / "t.csv"
    signups(text, 1)
    unknown = mixtrack(*import_args(text, mixtrack_collector.url, "--encoding", "klingon"))
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "mixtrack import: unknown --encoding 'klingon': try utf-8, cp1252 (Excel on Windows) "
        "or latin-1"
    )


def test_an_unterminated_quote_is_refused_with_its_line(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    source = tmp_path / "quotes.csv"
    source.write_text(
        HEADER
        + "Signed up,u1,1600000000,pro\n"
        + 'Signed up,u2,1600000001,"pro\n'  # the closing quote is missing
        + "Signed up,u3,1600000002,free\n"
        + 'Signed up,u4,1600000003,"team"\n'
        + "Signed up,u5,1600000004,free\n"
    )
    rejected = tmp_path / "refused.csv"
    result = mixtrack(*import_args(source, mixtrack_collector.url, "--rejected", rejected))
    assert result.returncode == 1
    assert (
        "refused: line 3: a quoted cell runs from line 3 to line 5 and takes in the rows "
        "there: is a closing quote missing?"
    ) in result.stdout
    assert "mixtrack.context" not in result.stdout + result.stderr
    stored = sorted(e["properties"]["distinct_id"] for e in mixtrack_collector.events())
    assert stored == ["u1", "u5"]
    # the refused record is written out as it was, all three lines of it, to fix and re-import
    assert rejected.read_text().splitlines()[1:] == [
        'Signed up,u2,1600000001,"pro',
        "Signed up,u3,1600000002,free",
        'Signed up,u4,1600000003,"team"',
    ]


def test_ctrl_c_once_stops_with_the_checkpoint_saved_and_the_rerun_finishes(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    source = signups(tmp_path / "s.csv", 300)
    mixtrack_collector.faults("status", status=503, count=10_000, endpoints="import")
    stderr = tmp_path / "stderr.txt"
    args = ["import", source, "--token", "tok", "--api-host", mixtrack_collector.url]
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "mixtrack.cli", *map(str, args), "--batch-size", "100"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        # it says why it waits: the collector's answer, and when it tries again
        deadline = time.monotonic() + 30
        while "retrying in" not in stderr.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "/import failed (HTTP 503" in stderr.read_text()
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 130, stdout
    said = stderr.read_text()
    assert "Traceback" not in said
    assert (
        "mixtrack import: interrupted; 0 events imported in this run, checkpoint saved in" in said
    )
    assert "run the same command to resume" in said
    assert json.loads((tmp_path / "s.csv.mixtrack-checkpoint").read_text())["version"] == 2
    mixtrack_collector.clear_faults()
    rerun = mixtrack(*import_args(source, mixtrack_collector.url, "--batch-size", "100"))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert len(mixtrack_collector.events("Signed up")) == 300


def test_max_elapsed_bounds_a_script_against_a_failing_collector(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    source = signups(tmp_path / "s.csv", 5)
    mixtrack_collector.faults("status", status=503, count=10_000, endpoints="import")
    result = mixtrack(*import_args(source, mixtrack_collector.url, "--max-elapsed", "1"))
    assert result.returncode == 1
    assert "not delivered: lines 2-6: gave up on 5 messages to /import after" in result.stdout
    assert "HTTP 503" in result.stdout
    assert "run the same command again to resume" in result.stdout
    assert os.path.exists(tmp_path / "s.csv.mixtrack-checkpoint")


def test_rows_the_collector_refuses_are_named_by_line_and_written_out(
    tmp_path: Path, mixtrack_collector: Collector
) -> None:
    source = tmp_path / "h.ndjson"
    source.write_text(
        "\n".join(
            json.dumps({"event": "Purchase", "distinct_id": f"u{i}", "time": 1_600_000_000 + i})
            for i in range(10)
        )
        + "\n"
    )
    # the collector refuses the 4th and 8th records of the request, as Mixpanel's partial 400
    mixtrack_collector.faults("partial", indices=[3, 7], count=1)
    rejected = tmp_path / "refused.ndjson"
    result = mixtrack(*import_args(source, mixtrack_collector.url, "--rejected", rejected))
    assert result.returncode == 1
    refused = [line for line in result.stdout.splitlines() if line.startswith("refused: ")]
    assert [line.split(":")[1] for line in refused] == [" line 4", " line 8"]
    assert [json.loads(line)["distinct_id"] for line in rejected.read_text().splitlines()] == [
        "u3",
        "u7",
    ]
    assert len(mixtrack_collector.events("Purchase")) == 8
