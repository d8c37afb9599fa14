"""A threaded HTTP/1.1 server (stdlib only) hosting the collector's WSGI app.

Keep-alive matters: SDKs reuse connections, and a new thread per request would cap ingest.
The bridge adds one thing to the WSGI environ, ``mixtrack.abort(reset)``, so injected faults
can drop or reset a connection without answering.
"""

from __future__ import annotations

import contextlib
import io
import json
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

from mixtrack.collector._app import BODY_REFUSED, CONTROL_BODY_LIMIT, CollectorApp
from mixtrack.collector._limits import BUSY, Budget, Held, ServerLimits
from mixtrack.collector._responses import REASONS
from mixtrack.protocol.decode import endpoint_of, read_limit

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

    def setup(self) -> None:
        super().setup()
        # An idle or half-sent request gives its thread back after this long.
        self.connection.settimeout(self.server.limits.idle_timeout)

    def _run_app(self) -> None:
        path, _, query = self.path.partition("?")
        endpoint = endpoint_of(path)
        limit = read_limit(endpoint) if endpoint else CONTROL_BODY_LIMIT
        with self.server.budget.hold() as held:
            outcome = self._body(limit, held)
            if isinstance(outcome, bytes):
                self._answer(path, query, outcome, None)
            elif outcome == "too_large":
                self.close_connection = True  # the rest of the body is never kept
                self._answer(path, query, b"", outcome)
                self._discard_rest()
            else:
                self.close_connection = True
                self._send_plain(*outcome)

    def _answer(self, path: str, query: str, body: bytes, refused: str | None) -> None:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.tls else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "mixtrack.abort": self._abort,
            BODY_REFUSED: refused,
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

    def _body(self, limit: int, held: Held) -> bytes | str | tuple[int, str]:
        """The body; ``"too_large"`` when it passes ``limit`` (read no further); or the
        ``(status, message)`` to answer when it cannot be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body(limit, held)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return 400, "Content-Length must be a non-negative integer"
        if length > limit:
            return "too_large"
        if not held.take(length):
            return BUSY
        return self.rfile.read(length) if length else b""

    def _chunked_body(self, limit: int, held: Held) -> bytes | str | tuple[int, str]:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError:
                return 400, "malformed chunked body: a chunk size is not a hex number"
            if size < 0:
                return 400, "malformed chunked body: negative chunk size"
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers, ignored
                return bytes(body)
            if len(body) + size > limit:
                return "too_large"
            if not held.take(size):
                return BUSY
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                return 400, "the chunked body ended early"
            body += chunk
            self.rfile.readline(1024)

    def _discard_rest(self) -> None:
        """Read (and drop) what the client still sends for a moment, so that closing with
        unread data (a TCP reset) does not destroy the answer before the client reads it."""
        with contextlib.suppress(OSError, ValueError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass

    def _send_plain(self, status: int, message: str) -> None:
        payload = json.dumps({"code": status, "error": message, "status": REASONS[status]})
        head = (
            f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n"
            + ("Retry-After: 1\r\n" if status == 503 else "")
            + "\r\n"
        )
        self.wfile.write(head.encode() + payload.encode())

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

    def __init__(
        self,
        address: tuple[str, int],
        app: CollectorApp,
        tls: ssl.SSLContext | None,
        limits: ServerLimits,
    ):
        self.app = app
        self.tls = tls
        self.limits = limits
        self.budget = Budget(limits.max_buffered_bytes)
        self._busy = threading.Condition()
        self._in_flight = 0
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._busy:
            full = len(self._connections) >= self.limits.max_connections
            if not full:
                self._connections.add(request)
        if full:
            log.warning(
                "refused a connection from %s: %d open", client_address, len(self._connections)
            )
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request: socket.socket) -> None:
        if not isinstance(request, ssl.SSLSocket):  # a TLS client cannot read plain text
            status, message = BUSY
            body = json.dumps({"code": status, "error": message, "status": REASONS[status]})
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(
                    f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    f"Retry-After: 1\r\nConnection: close\r\nContent-Length: {len(body)}"
                    f"\r\n\r\n{body}".encode()
                )
        self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
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
        limits: ServerLimits | None = None,
    ) -> None:
        self.app = app
        self.limits = limits or ServerLimits()
        self._httpd = _HTTPServer((host, port), app, ssl_context, self.limits)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        """Where a client on this machine reaches the collector."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if self.host == "::":
            host = "::1"
        return f"{self.scheme}://{_bracketed(host)}:{self.port}"

    @property
    def bound_url(self) -> str:
        """The address really bound: ``http://0.0.0.0:8765`` is every interface."""
        return f"{self.scheme}://{_bracketed(self.host or '0.0.0.0')}:{self.port}"

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


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
