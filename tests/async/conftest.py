"""A real HTTP collector stand-in on 127.0.0.1, scripted per test, for the asyncio client."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

# A script sees (route, messages) and returns None (answer like Mixpanel and store them),
# (status, headers, body) to answer that instead, "hang" or "drop" (close without answering).
Script = Callable[[str, list[dict[str, Any]]], Any]


class LocalCollector:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stored: list[tuple[str, dict[str, Any]]] = []
        self.requests = 0
        self.script: Script | None = None
        self.release = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                route = urlsplit(self.path).path.strip("/")
                if self.headers.get("Content-Type", "").startswith("application/x-www-form"):
                    data = parse_qs(body.decode())["data"][0]
                    body = data.encode() if data.startswith("[") else base64.b64decode(data)
                messages = json.loads(body)
                with collector.lock:
                    collector.requests += 1
                    script = collector.script
                answer = script(route, messages) if script else None
                if answer == "hang":
                    collector.release.wait(30)
                    self.close_connection = True
                    return
                if answer == "drop":
                    self.close_connection = True
                    return
                if answer is None:
                    with collector.lock:
                        collector.stored.extend((route, m) for m in messages)
                    ok = {"code": 200, "num_records_imported": len(messages), "status": "OK"}
                    answer = (200, {}, json.dumps(ok if route == "import" else {"status": 1}))
                status, headers, text = answer
                payload = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for _, m in self.stored if "event" in m]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    server = LocalCollector()
    try:
        yield server
    finally:
        server.close()
