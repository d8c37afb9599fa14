"""Resources a client can take are bounded: body size while reading, idle time, connections."""

from __future__ import annotations

import json
import select
import signal
import socket
import time
from urllib.parse import urlsplit

import psutil

from mixtrack.collector import CollectorApp, CollectorServer
from mixtrack.collector._limits import ServerLimits
from tests.collector.test_cli import start


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _send_chunked(url: str, path: str, total: int, chunk: int = 1 << 20) -> bytes:
    """Stream ``total`` bytes as a chunked body until the server answers; its answer."""
    with socket.create_connection(_address(url), timeout=10) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/json\r\n\r\n".encode()
        )
        piece = f"{chunk:x}\r\n".encode() + b"[" + b" " * (chunk - 1) + b"\r\n"
        sent = 0
        while sent < total:
            if select.select([conn], [], [], 0)[0]:
                break  # answered before the end
            try:
                conn.sendall(piece)
            except OSError:
                break
            sent += chunk
        else:
            conn.sendall(b"0\r\n\r\n")
        return conn.recv(65536)


def test_a_chunked_200_mb_upload_is_refused_while_reading_in_little_memory() -> None:
    process, url, _ = start("--db", ":memory:")
    try:
        collector = psutil.Process(process.pid)
        before = collector.memory_info().rss
        answer = _send_chunked(url, "/import", 200 * 1024 * 1024)
        grown = collector.memory_info().rss - before
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code": 413' in answer
        assert grown < 10 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MB"
        # The collector still serves.
        assert _send_chunked(url, "/import", 0).startswith(b"HTTP/1.1 400")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def _raw(url: str, request: bytes) -> bytes:
    with socket.create_connection(_address(url), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(65536)


def test_bad_lengths_and_chunk_sizes_are_400s_not_buffered() -> None:
    server = CollectorServer(CollectorApp(), port=0).start()
    try:
        for head in (
            b"Content-Length: -1\r\n",
            b"Content-Length: ten\r\n",
            b"Transfer-Encoding: chunked\r\n",
        ):
            tail = b"zz\r\n" if b"chunked" in head else b""
            answer = _raw(
                server.url, b"POST /import HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + tail
            )
            assert answer.startswith(b"HTTP/1.1 400"), (head, answer)
        big = b"POST /track HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n"
        assert _raw(server.url, big).startswith(b"HTTP/1.1 413")
    finally:
        server.stop()


def test_idle_connections_are_closed_and_extra_ones_refused_with_503() -> None:
    limits = ServerLimits(idle_timeout=0.5, max_connections=2)
    server = CollectorServer(CollectorApp(), port=0, limits=limits).start()
    try:
        idle = socket.create_connection(_address(server.url), timeout=10)
        half = socket.create_connection(_address(server.url), timeout=10)
        half.sendall(b"POST /import HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[")
        time.sleep(0.2)  # both are being served
        extra = _raw(server.url, b"GET /_mixtrack/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert extra.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in extra
        # After the idle timeout both are closed by the server, and room is back.
        assert idle.recv(10) == b"" and half.recv(10) == b""
        idle.close()
        half.close()
        time.sleep(0.1)
        again = _raw(server.url, b"GET /_mixtrack/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert again.startswith(b"HTTP/1.1 200")
    finally:
        server.stop()


def test_a_non_loopback_bind_prints_the_real_address_and_what_is_exposed() -> None:
    import subprocess
    import sys

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mixtrack.cli",
            "collector",
            "--port",
            "0",
            "--host",
            "0.0.0.0",
            "--db",
            ":memory:",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        banner = process.stdout.readline()
        assert banner.startswith("mixtrack collector listening on http://0.0.0.0:"), banner
        warning = process.stderr.readline()
        assert "WARNING" in warning and "/track" in warning and "reset" in warning
        key = warning.rsplit(" ", 1)[-1].strip()
        port = int(banner.split()[4].rsplit(":", 1)[1])
        import httpx

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            assert http.get("/_mixtrack/stats").status_code == 401
            assert http.get("/_mixtrack/stats", auth=(key, "")).status_code == 200
            sent = http.post(
                "/track",
                data={
                    "data": json.dumps(
                        {"event": "e", "properties": {"token": "t", "distinct_id": "d"}}
                    )
                },
            )
            assert sent.text == "1"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
