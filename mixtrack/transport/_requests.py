"""A transport on ``requests`` (the ``mixtrack[requests]`` extra), for apps standardised on it."""

from __future__ import annotations

import threading
from typing import Any

from mixtrack.errors import ConfigError, TransportError
from mixtrack.transport._base import Request, Response

try:
    import requests
    import requests.adapters
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ConfigError(
        "RequestsTransport needs the requests package: pip install 'mixtrack[requests]'"
    ) from exc

__all__ = ["RequestsTransport"]


class RequestsTransport:
    """Sends requests through ``requests``; one ``Session`` per thread (sessions are not
    documented as thread-safe), each with a keep-alive pool. ``responses`` mocks it in tests."""

    def __init__(self, *, verify: bool = True, pool_maxsize: int = 8) -> None:
        self._verify = verify
        self._pool_maxsize = pool_maxsize
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._lock = threading.Lock()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=self._pool_maxsize)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def send(self, request: Request) -> Response:
        try:
            r = self._session().request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.body,
                timeout=request.timeout,
                verify=self._verify,
            )
        except requests.Timeout as exc:
            raise TransportError(f"timeout talking to {request.url}: {exc}", timeout=True) from exc
        except requests.RequestException as exc:
            kind = type(exc).__name__
            raise TransportError(f"{kind} talking to {request.url}: {exc}") from exc
        headers = {k.lower(): v for k, v in r.headers.items()}
        return Response(r.status_code, headers, r.content)

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
