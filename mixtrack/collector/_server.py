"""A threaded HTTP/1.1 server (stdlib only) hosting the collector's WSGI app.

Keep-alive matters: SDKs reuse connections, and a new thread per request would cap ingest.
The bridge adds one thing to the WSGI environ, ``mixtrack.abort(reset)``, so injected faults
can drop or reset a connection without answering.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mixtrack.collector._app import HARD_BODY_LIMIT, CollectorApp

log = logging.getLogger("mixtrack.collector")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (OSError, ValueError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        self.server.enter()
        try:
            self._run_app()
        finally:
            self.server.leave()

    def _run_app(self) -> None:
        path, _, query = self.path.partition("?")
        self._declared = -1
        body = self._body()
        if body is None:
            return
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body) if self._declared < 0 else self._declared),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.tls else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "mixtrack.abort": self._abort,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        self._aborted = False
        head: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            head.append(f"HTTP/1.1 {status}\r\n".encode("latin-1"))
            head.extend(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers)
            return None

        chunks = self.server.app(environ, start_response)
        if self._aborted or not head:
            if not self._aborted:
                log.error("the app sent no answer to %s %s", self.command, path)
            self.close_connection = True
            return
        if any(line.lower() == b"connection: close\r\n" for line in head):
            self.close_connection = True
        self.wfile.write(b"".join(head) + b"\r\n" + b"".join(chunks))

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return None
        if length > HARD_BODY_LIMIT:
            # The app answers 413 from the declared length; the unread body closes the connection.
            self._declared = length
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length else b""

    def _abort(self, reset: bool) -> None:
        self._aborted = True
        self.close_connection = True
        if reset:
            # SO_LINGER with a zero timeout turns close() into a TCP RST. Close the descriptor
            # now: the usual teardown would send a FIN (shutdown) before the reset.
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            os.close(self.connection.detach())

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: CollectorApp, tls: ssl.SSLContext | None):
        self.app = app
        self.tls = tls
        self._busy = threading.Condition()
        self._in_flight = 0
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._busy:
            self._connections.add(request)
        try:
            if isinstance(request, ssl.SSLSocket):
                request.settimeout(10)
                request.do_handshake()
                request.settimeout(None)
            super().process_request_thread(request, client_address)
        except (OSError, ssl.SSLError) as exc:
            log.debug("connection from %s failed: %s", client_address, exc)
            self.shutdown_request(request)
        finally:
            with self._busy:
                self._connections.discard(request)

    def enter(self) -> None:
        with self._busy:
            self._in_flight += 1

    def leave(self) -> None:
        with self._busy:
            self._in_flight -= 1
            self._busy.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until no request is being handled; True when drained in time."""
        deadline = time.monotonic() + timeout
        with self._busy:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._busy.wait(left)
            return True

    def close_connections(self) -> None:
        with self._busy:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on connection from %s", client_address, exc_info=True)


class CollectorServer:
    """Serves a :class:`CollectorApp` on a real port, in a background thread or the foreground.

    >>> server = CollectorServer(CollectorApp(), port=0).start()  # doctest: +SKIP
    >>> server.url  # doctest: +SKIP
    'http://127.0.0.1:40123'
    >>> server.stop()  # doctest: +SKIP
    """

    def __init__(
        self,
        app: CollectorApp,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self._httpd = _HTTPServer((host, port), app, ssl_context)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def live_url(self) -> str:
        return self.url + "/"

    def start(self) -> CollectorServer:
        """Serve in a daemon thread; returns at once, ready to accept connections."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"mixtrack-collector:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.1)

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop accepting, let requests in progress finish (up to ``timeout``), close the store.

        Returns False when some request was still running at the deadline.
        """
        if self._stopped:
            return True
        self._stopped = True
        self._httpd.shutdown()
        self.app.stopping.set()
        self.app.faults.clear()
        drained = self._httpd.drain(timeout)
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self.app.close()
        return drained
