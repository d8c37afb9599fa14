"""Helpers shared by the adapter tests: build Experiments, render pages, check exposures."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from mixtrack.exposure import EXPOSURE_EVENT, Experiments, MemoryLedger, Variant
from mixtrack.flags import FlagProvider
from mixtrack.testing import CapturedEvents


def experiments_for(events: CapturedEvents, flags: FlagProvider, **options: Any) -> Experiments:
    return Experiments(events.client, flags, ledger=MemoryLedger(), **options)


def exposures(events: CapturedEvents) -> list[dict[str, Any]]:
    return events.named(EXPOSURE_EVENT)


def render(experiments: Experiments, distinct_id: str, experiment: str, times: int = 3) -> Variant:
    """What a page does: evaluate, show, expose; ``times`` renders of the same page."""
    variant = experiments.variant(distinct_id, experiment)
    for _ in range(times):
        variant = experiments.variant(distinct_id, experiment)
        variant.expose()
    return variant


def assert_exposed_once(
    events: CapturedEvents,
    distinct_id: str,
    experiment: str,
    variant: str,
    provider: str,
    **metadata: Any,
) -> dict[str, Any]:
    """Exactly one exposure of ``distinct_id``, with the names unchanged."""
    found = [e for e in exposures(events) if e["properties"]["distinct_id"] == distinct_id]
    assert len(found) == 1, events.describe()
    properties = found[0]["properties"]
    assert properties["Experiment name"] == experiment
    assert properties["Variant name"] == variant
    assert properties["Flag provider"] == provider
    for key, value in metadata.items():
        assert properties[key] == value, (key, properties)
    return properties


class LocalServer:
    """A real HTTP(S) server on 127.0.0.1 in a thread: serves fixed answers, keeps requests.

    ``routes`` maps a path (no query) to ``(status, body)``; anything else gets 404.
    """

    def __init__(
        self,
        routes: dict[str, tuple[int, bytes]] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.routes = dict(routes or {})
        self.requests: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                with server._changed:
                    server.requests.append(
                        {"method": self.command, "path": path, "target": self.path,
                         "headers": dict(self.headers), "body": body}
                    )  # fmt: skip
                    server._changed.notify_all()
                status, payload = server.routes.get(path, (404, b"{}"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> bool:
        """Wait until ``predicate(requests)`` holds; False if it did not within ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.requests), timeout=timeout)

    def posted_json(self, path: str) -> list[Any]:
        with self._changed:
            return [json.loads(r["body"]) for r in self.requests if r["path"] == path and r["body"]]
