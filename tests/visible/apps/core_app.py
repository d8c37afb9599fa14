"""The framework-free core behind a plain WSGI app: what every adapter does, in one file."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import mixtrack
from mixtrack.exposure import Experiments, MemoryLedger, Render
from mixtrack.flags import StaticFlags
from mixtrack.web.visible import ENDPOINT_PATH, SCRIPT_PATH, Beacon, VisibleExposure
from tests.visible._page import DWELL, FLAGS, csp, nonce, page

Start = Callable[[str, list[tuple[str, str]]], Any]


class CoreApp:
    def __init__(self, api_host: str) -> None:
        self.client = mixtrack.Client("core-token", api_host=api_host, flush_interval=0.05)
        self.experiments = Experiments(self.client, StaticFlags(FLAGS), ledger=MemoryLedger())
        self.visible = VisibleExposure(self.experiments, "core-secret", dwell=DWELL)

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        visitor = cookie["visitor"].value if "visitor" in cookie else None
        if path == "/":
            return self._page(visitor, start)
        if path == SCRIPT_PATH:
            start("200 OK", list(self.visible.script_headers().items()))
            return [self.visible.script]
        if path == ENDPOINT_PATH:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            answer = self.visible.receive(
                Beacon(
                    method,
                    environ["wsgi.input"].read(size),
                    environ.get("CONTENT_TYPE"),
                    (visitor,),
                    host=environ.get("HTTP_HOST"),
                    origin=environ.get("HTTP_ORIGIN"),
                    fetch_site=environ.get("HTTP_SEC_FETCH_SITE"),
                    properties={"$current_url": environ.get("HTTP_REFERER", "")},
                )
            )
            headers = [("Content-Type", answer.content_type), *answer.headers.items()]
            start(f"{answer.status} -", headers)
            return [answer.content()]
        if path == "/_test/stats":
            stats = self.visible.stats()
            body = {"beacons": stats.beacons, "exposed": stats.exposed,
                    "duplicates": stats.duplicates, "refused": dict(stats.refused)}  # fmt: skip
            start("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def _page(self, visitor: str | None, start: Start) -> Iterable[bytes]:
        headers = []
        if visitor is None:
            visitor = f"$device:{uuid.uuid4()}"
            headers.append(("Set-Cookie", f"visitor={visitor}; Path=/; HttpOnly; SameSite=Lax"))
        scope = self.experiments.request_scope()
        marks = []
        for name in ("banner", "offer"):
            variant = self.experiments.variant(visitor, name)
            self.visible.rendered(variant, scope, self._send)
            marks.append((variant.name or "", self.visible.attributes(variant)))
        value = nonce()
        html = page(marks[0], marks[1], self.visible.script_tag(nonce=value))
        headers += [("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Security-Policy", csp(value))]  # fmt: skip
        start("200 OK", headers)
        scope.commit()  # the page is delivered: send what waited for it
        return [html.encode()]

    def _send(self, render: Render) -> None:
        self.client.track(
            render.distinct_id, render.event, render.properties(),
            time=render.time, insert_id=render.insert_id,
        )  # fmt: skip


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serve(api_host: str) -> Iterator[str]:
    app = CoreApp(api_host)
    server = make_server("127.0.0.1", 0, app, _ThreadingServer, _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        app.client.shutdown(timeout=5)
