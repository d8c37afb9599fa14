"""A real HTTP server on 127.0.0.1 that records what arrives and misbehaves on request.

Smaller than the collector and scripted per request, for the client tests that need exact
control of each answer. A behaviour sees ``(route, messages)`` and returns None (answer like
Mixpanel and store them), ``(status, headers, body)`` to answer that instead (``body`` str or
bytes; for a 400 on /import, a list of indices to refuse as a partial failure), ``"hang"``
(no answer until the server closes), ``"drop"`` (close the connection without answering) or
a callable, given the request handler, that writes a raw answer of its own (a trickle, a flood).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mixtrack.protocol.decode import WireRequest, decode

Behaviour = Callable[[str, list[dict[str, Any]]], Any]


class Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.requests = 0
        self.behaviour: Behaviour | None = None
        self.release = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                request = WireRequest.from_url("POST", self.path, dict(self.headers), body)
                route = request.endpoint or ""
                messages = decode(request, route).records
                with sink.lock:
                    sink.requests += 1
                    behaviour = sink.behaviour
                answer = behaviour(route, messages) if behaviour else None
                if answer == "hang":
                    sink.release.wait(30)
                    self.close_connection = True
                    return
                if answer == "drop":
                    self.close_connection = True
                    return
                if callable(answer):
                    self.close_connection = True
                    answer(self)
                    return
                if answer is None:
                    with sink.lock:
                        sink.messages.extend((route, m) for m in messages)
                    if route == "import":
                        doc = {"code": 200, "num_records_imported": len(messages), "status": "OK"}
                    else:
                        doc = {"status": 1, "error": None}
                    answer = (200, {}, json.dumps(doc).encode())
                status, headers, payload = answer
                if status == 400 and isinstance(payload, list):
                    # partial failure: payload is the list of indices to refuse
                    with sink.lock:
                        sink.messages.extend(
                            (route, m) for i, m in enumerate(messages) if i not in payload
                        )
                    failed = [
                        {
                            "index": i,
                            "$insert_id": messages[i]["properties"].get("$insert_id"),
                            "field": "properties.time",
                            "message": "'properties.time' is invalid",
                        }
                        for i in payload
                    ]
                    payload = json.dumps(
                        {
                            "code": 400,
                            "error": "some data points in the request failed validation",
                            "failed_records": failed,
                            "num_records_imported": len(messages) - len(payload),
                            "status": "Bad Request",
                        }
                    ).encode()
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for _, m in self.messages if "event" in m]

    def insert_id_counts(self) -> Counter[str]:
        return Counter(e["properties"]["$insert_id"] for e in self.events())

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
