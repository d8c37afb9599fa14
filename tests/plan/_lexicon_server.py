"""A local Lexicon Schemas API on 127.0.0.1, for push and pull tests.

It serves the documented endpoints under ``/api/app/projects/{projectId}/schemas``: list
(``GET``, optional ``entityType``), read one (``GET /{entityType}/{name}``), create or replace
one (``POST /{entityType}/{name}``), create or replace many (``POST`` with ``{"entries": [...],
"truncate": bool}``), delete one and delete all. It checks service-account Basic auth (401),
the project id (403) and the body's shape (400 naming the field), and merges metadata as
Lexicon documents: ``metadata["com.mixpanel"]`` fields missing from an upload are kept from
the stored schema; a field sent as ``null`` is removed.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ENTITY_TYPES = ("event", "profile")


def _merge(stored: dict[str, Any] | None, upload: dict[str, Any]) -> dict[str, Any]:
    result = json.loads(json.dumps(upload))
    old = ((stored or {}).get("metadata") or {}).get("com.mixpanel") or {}
    new = (result.get("metadata") or {}).get("com.mixpanel")
    if not old and new is None:
        return result
    meta = {k: v for k, v in {**old, **(new or {})}.items() if v is not None}
    result.setdefault("metadata", {})["com.mixpanel"] = meta
    return result


class LexiconServer:
    """``with LexiconServer(project_id=12345, account=("user", "secret")) as lexicon:``,
    then point a client at ``lexicon.url``; ``lexicon.schemas`` holds what was stored."""

    def __init__(self, project_id: int = 12345, account: tuple[str, str] = ("sa", "s3cret")):
        self.project_id = project_id
        self.account = account
        self.schemas: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = server.answer(method, self.path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> LexiconServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()

    # -- the API ---------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = [unquote(p) for p in parts.path.strip("/").split("/")]
        with self.lock:
            self.requests.append((method, parts.path))
        if path[:3] != ["api", "app", "projects"] or len(path) < 5 or path[4] != "schemas":
            return 404, {"status": "error", "error": f"no route {parts.path}"}
        if not self._authorised(headers.get("Authorization", "")):
            return 401, {"status": "error", "error": "Invalid credentials"}
        if path[3] != str(self.project_id):
            return 403, {"status": "error", "error": f"no access to project {path[3]}"}
        rest = path[5:]
        query = parse_qs(parts.query)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return 400, {"status": "error", "error": "body is not JSON"}
        with self.lock:
            if not rest:
                return self._many(method, payload, query)
            if len(rest) == 2 and rest[0] in ENTITY_TYPES:
                return self._one(method, rest[0], rest[1], payload)
        return 404, {"status": "error", "error": f"no route {parts.path}"}

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return (user, secret) == self.account

    def _many(self, method: str, payload: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        if method == "GET":
            kind = query.get("entityType", [None])[0]
            results = [
                {"entityType": t, "name": n, "schemaJson": s}
                for (t, n), s in sorted(self.schemas.items())
                if kind is None or t == kind
            ]
            return 200, {"status": "ok", "results": results}
        if method == "DELETE":
            kind = query.get("entityType", [None])[0]
            gone = [k for k in self.schemas if kind is None or k[0] == kind]
            for key in gone:
                del self.schemas[key]
            return 200, {"status": "ok", "results": {"delete_count": len(gone)}}
        problem = _bulk_problem(payload)
        if problem:
            return 400, {"status": "error", "error": problem}
        deleted = 0
        if payload.get("truncate"):
            deleted = len(self.schemas)
            self.schemas.clear()
        for item in payload["entries"]:
            key = (item["entityType"], item["name"])
            self.schemas[key] = _merge(self.schemas.get(key), item["schemaJson"])
        return 200, {
            "status": "ok",
            "results": {"added": len(payload["entries"]), "deleted": deleted},
        }

    def _one(self, method: str, kind: str, name: str, payload: Any) -> tuple[int, Any]:
        key = (kind, name)
        if method == "GET":
            if key not in self.schemas:
                return 404, {"status": "error", "error": f"no schema for {kind} {name!r}"}
            return 200, {"status": "ok", "results": self.schemas[key]}
        if method == "DELETE":
            self.schemas.pop(key, None)
            return 200, {"status": "ok", "results": {"delete_count": 1}}
        if not isinstance(payload, dict):
            return 400, {"status": "error", "error": "the body is a JSON Schema object"}
        self.schemas[key] = _merge(self.schemas.get(key), payload)
        return 200, {"status": "ok", "results": self.schemas[key]}


def _bulk_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("entries"), list):
        return "the body is {'entries': [...], 'truncate': bool}"
    if "truncate" in payload and not isinstance(payload["truncate"], bool):
        return "truncate must be a boolean"
    for index, item in enumerate(payload["entries"]):
        if not isinstance(item, dict):
            return f"entries[{index}] must be an object"
        if item.get("entityType") not in ENTITY_TYPES:
            return f"entries[{index}].entityType must be 'event' or 'profile'"
        if not isinstance(item.get("name"), str) or not item["name"]:
            return f"entries[{index}].name must be a non-empty string"
        if not isinstance(item.get("schemaJson"), dict):
            return f"entries[{index}].schemaJson must be an object"
        if item["entityType"] == "profile" and item["name"] != "$user":
            return f"entries[{index}]: the profile schema is named '$user'"
    return None
