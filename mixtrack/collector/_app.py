"""The collector as a standard WSGI app: routing, CORS, injected faults, the live view page."""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import attrs

from mixtrack.collector import _access as access
from mixtrack.collector import _responses as answers
from mixtrack.collector._counting import CountingStore
from mixtrack.collector._faults import Fault, FaultBoard
from mixtrack.collector._ingest import Counters, Ingest, Settings
from mixtrack.collector._query import QueryAPI
from mixtrack.collector._responses import Answer
from mixtrack.collector._sqlite import SqliteStore
from mixtrack.collector._store import Store
from mixtrack.protocol.decode import (
    WireRequest,
    byte_limit,
    endpoint_of,
    read_limit,
    wants_form_answer,
    wants_verbose_answer,
)
from mixtrack.protocol.identity import IdentityMode, check_mode

if TYPE_CHECKING:
    from mixtrack.plan import Plan

log = logging.getLogger("mixtrack.collector")

StartResponse = Callable[..., Any]
#: Body limit of the query and control API (fault specs, a tracking plan).
CONTROL_BODY_LIMIT = 1024 * 1024
#: WSGI environ key a server sets to ``"too_large"`` when it stopped reading a body at its
#: limit (chunked, or of unknown length): the app answers 413 without a body to read.
BODY_REFUSED = "mixtrack.body_refused"
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


class CollectorApp:
    """The local Mixpanel-compatible collector, as a WSGI application.

    Any WSGI server can host it; :func:`mixtrack.collector.serve` and
    :class:`mixtrack.testing.Collector` use the threaded stdlib-based server in this package.

    >>> app = CollectorApp(SqliteStore(":memory:"), tokens={"PROJECT_TOKEN"})
    >>> app.identity
    'simplified'

    ``identity`` is the Mixpanel ID-merge system (``"simplified"`` or ``"original"``) whose
    rules build identity clusters for ``GET /_mixtrack/events?identity=1``, ``GET
    /_mixtrack/identity`` and the audit. Links of both systems are stored, so it can be
    changed while running.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        tokens: Iterable[str] = (),
        secrets: Iterable[str] = (),
        count_only: bool = False,
        identity: str = "simplified",
        project_id: str | None = None,
        access_keys: Iterable[str] | None = None,
        loopback: bool = True,
        plan: str | os.PathLike[str] | Plan | None = None,
    ) -> None:
        if store is None:
            store = CountingStore() if count_only else SqliteStore(":memory:")
        self.store = store
        secrets = frozenset(secrets)
        self.settings = Settings(
            frozenset(tokens),
            secrets,
            count_only,
            check_mode(identity),
            project_id,
            secrets if access_keys is None else frozenset(access_keys),
        )
        #: Bound to loopback only: query and control requests must name this machine as Host.
        self.loopback = loopback
        self.counters = Counters()
        self.faults = FaultBoard()
        self.ingest = Ingest(store, self.settings, self.counters)
        self.query = QueryAPI(store, self.counters, self.faults, self.settings)
        if plan is not None:
            from mixtrack.plan import Plan

            self.query.plan = Plan.load(plan)
        #: Set when the server stops: hung requests give up, the live view stops polling.
        self.stopping = threading.Event()
        self._static: dict[str, bytes] = {}

    @property
    def identity(self) -> IdentityMode:
        """The ID-merge system clusters are built with; assign to switch."""
        return self.settings.identity

    @identity.setter
    def identity(self, mode: str) -> None:
        self.settings = attrs.evolve(self.settings, identity=check_mode(mode))
        self.ingest.settings = self.query.settings = self.settings

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        query = environ.get("QUERY_STRING", "")
        headers = _headers(environ)
        endpoint = endpoint_of(path)
        extra = access.cors_headers(method, headers) if endpoint is not None else []
        if endpoint is None:
            refused = access.refusal(
                method,
                headers,
                scheme=environ.get("wsgi.url_scheme", "http"),
                keys=self.settings.access_keys,
                loopback=self.loopback,
                page=not path.startswith("/_mixtrack/") or path.startswith("/_mixtrack/static/"),
            )
            if refused is not None:
                status, message, more = refused
                refusal = answers.control({"error": message}, status)
                return self._send(start_response, attrs.evolve(refusal, headers=more), [])
        if method == "OPTIONS":
            # A preflight: granted (by the CORS headers) on the ingest endpoints only.
            return self._send(start_response, Answer(200, b"", "text/plain"), extra)
        refused_body = environ.get(BODY_REFUSED)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        limit = read_limit(endpoint) if endpoint else CONTROL_BODY_LIMIT
        if refused_body == "too_large" or length > limit:
            message = f"request exceeds max limit of {byte_limit(endpoint or 'import')} bytes"
            extra.append(("Connection", "close"))
            return self._send(start_response, answers.error(413, message), extra)
        if length < 0:
            extra.append(("Connection", "close"))
            bad_length = answers.error(400, "Content-Length must be a non-negative integer")
            return self._send(start_response, bad_length, extra)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        request = WireRequest(method, path, query, headers, body)
        try:
            answer = self._route(request, environ)
        except Exception as exc:  # nothing a client sends may take the server down
            log.exception("collector failed on %s %s", method, path)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            answer = answers.error(500, f"collector error: {detail}")
        if answer is None:
            return []
        return self._send(start_response, answer, extra)

    def _route(self, request: WireRequest, environ: dict[str, Any]) -> Answer | None:
        endpoint = endpoint_of(request.path)
        if endpoint is not None:
            if request.method not in ("GET", "POST"):
                return answers.error(405, f"{request.method} is not accepted on /{endpoint}")
            self.counters.request(endpoint)
            taken = self.faults.take(endpoint)
            if taken is not None:
                self.counters.add(faulted_requests=1)
                fault, ended = taken
                if fault.delay:
                    self.stopping.wait(fault.delay)
                if fault.kind in ("delay", "partial"):
                    return self.ingest.handle(request, endpoint, fault)
                return self._act(fault, ended, request, endpoint, environ)
            return self.ingest.handle(request, endpoint)
        if request.path.startswith("/_mixtrack/static/"):
            return self._asset(request.path.rsplit("/", 1)[-1])
        if request.path.startswith("/_mixtrack/"):
            name = request.path[len("/_mixtrack/") :].strip("/")
            params = dict(parse_qsl(request.query, keep_blank_values=True))
            return self.query(name, request.method, params, request.body)
        if request.path in ("/", "/live", "/index.html"):
            return self._asset("live.html")
        if request.path == "/favicon.ico":
            return Answer(204, b"", "image/x-icon")
        return answers.control(
            {
                "error": f"no such endpoint {request.path!r}; ingest: /track /engage /groups "
                "/import; query: /_mixtrack/...; live view: /"
            },
            404,
        )

    def _act(
        self,
        fault: Fault,
        ended: threading.Event,
        request: WireRequest,
        endpoint: str,
        environ: dict[str, Any],
    ) -> Answer | None:
        """The fault's own answer, or ``None`` when the connection is dropped unanswered."""
        form = wants_form_answer(request)
        verbose = wants_verbose_answer(request)
        if fault.kind == "status":
            message = (
                answers.RATE_LIMITED
                if fault.status == 429
                else (f"injected fault: {answers.REASONS.get(fault.status, 'error')}")
            )
            return answers.for_request(
                fault.status, message, form=form, verbose=verbose, retry_after=fault.retry_after
            )
        if fault.kind == "too_large":
            message = f"request exceeds max limit of {byte_limit(endpoint)} bytes"
            return answers.for_request(413, message, form=form, verbose=verbose)
        if fault.kind == "hang":
            self.faults.wait_out(ended, fault, self.stopping)
            _abort(environ, reset=False)
            return None
        _abort(environ, reset=True)
        return None

    def _asset(self, name: str) -> Answer:
        suffix = Path(name).suffix
        if suffix not in STATIC_TYPES:
            return answers.control({"error": f"no such asset {name!r}"}, 404)
        if name not in self._static:
            try:
                data = resources.files("mixtrack.collector").joinpath(f"static/{name}").read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                return answers.control({"error": f"no such asset {name!r}"}, 404)
            self._static[name] = data
        return Answer(
            200, self._static[name], STATIC_TYPES[suffix], (("Cache-Control", "no-cache"),)
        )

    def _send(
        self, start_response: StartResponse, answer: Answer, extra: list[tuple[str, str]]
    ) -> list[bytes]:
        status = f"{answer.status} {answers.REASONS.get(answer.status, 'Status')}"
        if answer.status == 204:
            status = "204 No Content"
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            *answer.headers,
            *extra,
        ]
        start_response(status, headers)
        return [answer.body]

    def close(self) -> None:
        """Release hung requests and close the store."""
        self.stopping.set()
        self.faults.clear()
        self.store.close()


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _abort(environ: dict[str, Any], *, reset: bool) -> None:
    abort = environ.get("mixtrack.abort")
    if abort is None:
        # A foreign WSGI server cannot drop the connection on our behalf: fail the request.
        raise ConnectionAbortedError("injected fault: connection dropped")
    abort(reset)
