"""An in-memory transport that answers like Mixpanel, and a view of what was captured."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mixtrack.protocol.decode import WireError, WireRequest, decode
from mixtrack.transport import Request, Response

__all__ = ["CapturedEvents", "InMemoryTransport", "decode_request"]

_OK_IMPORT = b'{"code":200,"num_records_imported":%d,"status":"OK"}'
_OK_FORM = b'{"status":1,"error":null}'


def decode_request(request: Request) -> tuple[str, list[dict[str, Any]]]:
    """The endpoint (``import``, ``track``, ``engage``, ``groups``) and the messages of a
    request, read by the collector's decoder (:mod:`mixtrack.protocol.decode`)."""
    wire = WireRequest.from_url(request.method, request.url, request.headers, request.body)
    endpoint = wire.endpoint
    if endpoint is None:
        raise ValueError(f"not a Mixpanel ingestion URL: {request.url}")
    try:
        payload = decode(wire, endpoint)
    except WireError as exc:
        raise ValueError(f"cannot read the request to /{endpoint}: {exc.message}") from None
    return endpoint, payload.records


class InMemoryTransport:
    """A :class:`~mixtrack.transport.Transport` that keeps every message and answers 200.

    >>> transport = InMemoryTransport()
    >>> client = mixtrack.Client("tok", transport=transport)  # doctest: +SKIP
    >>> client.track("user-42", "Signed up"); client.flush()  # doctest: +SKIP
    >>> transport.events()[0]["event"]  # doctest: +SKIP
    'Signed up'
    """

    def __init__(self, answer: Callable[[Request], Response | None] | None = None) -> None:
        self._lock = threading.Lock()
        self._messages: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[Request] = []
        self._answer = answer

    def send(self, request: Request) -> Response:
        if self._answer is not None:
            custom = self._answer(request)
            if custom is not None:
                with self._lock:
                    self.requests.append(request)
                return custom
        route, messages = decode_request(request)
        with self._lock:
            self.requests.append(request)
            self._messages.extend((route, m) for m in messages)
        body = _OK_IMPORT % len(messages) if route == "import" else _OK_FORM
        return Response(200, {"content-type": "application/json"}, body)

    def close(self) -> None:
        pass

    def messages(self, route: str | None = None) -> list[dict[str, Any]]:
        """Every message received (for one endpoint: ``import``, ``track``, ``engage``...)."""
        with self._lock:
            return [m for r, m in self._messages if route is None or r == route]

    def events(self) -> list[dict[str, Any]]:
        """Event messages (``{"event", "properties"}``) from /import and /track, in order."""
        return [m for m in self.messages() if "event" in m]

    def profile_updates(self) -> list[dict[str, Any]]:
        return self.messages("engage")

    def group_updates(self) -> list[dict[str, Any]]:
        return self.messages("groups")

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self.requests.clear()


class CapturedEvents(Sequence[dict[str, Any]]):
    """What a client emitted, flushed on every read; the ``mixtrack_events`` fixture.

    >>> def test_signup(mixtrack_events):  # doctest: +SKIP
    ...     signup(client=mixtrack_events.client, user="user-42")
    ...     mixtrack_events.assert_tracked("Signed up", distinct_id="user-42", plan="pro")
    """

    def __init__(self, client: Any, transport: InMemoryTransport) -> None:
        self.client = client
        self.transport = transport

    def _events(self) -> list[dict[str, Any]]:
        self.client.flush(timeout=5.0)
        return self.transport.events()

    def __getitem__(self, index: Any) -> Any:
        return self._events()[index]

    def __len__(self) -> int:
        return len(self._events())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._events())

    def names(self) -> list[str]:
        return [e["event"] for e in self._events()]

    def named(self, event: str) -> list[dict[str, Any]]:
        """Events with this name, in the order they were tracked."""
        return [e for e in self._events() if e["event"] == event]

    def for_user(self, distinct_id: str) -> list[dict[str, Any]]:
        """Events of one distinct_id."""
        return [e for e in self._events() if e["properties"].get("distinct_id") == distinct_id]

    def profiles(self) -> list[dict[str, Any]]:
        """Profile updates (``/engage`` messages)."""
        self.client.flush(timeout=5.0)
        return self.transport.profile_updates()

    def assert_tracked(
        self,
        event: str,
        *,
        distinct_id: str | None = None,
        count: int | None = None,
        **properties: Any,
    ) -> list[dict[str, Any]]:
        """Asserts that ``event`` was tracked (``count`` times, when given) with these
        properties; the failure message lists what was emitted instead."""
        matches = [
            e
            for e in self.named(event)
            if (distinct_id is None or e["properties"].get("distinct_id") == distinct_id)
            and _has(e["properties"], properties)
        ]
        if (count is None and not matches) or (count is not None and len(matches) != count):
            wanted = f"{count} x " if count is not None else ""
            raise AssertionError(
                f"expected {wanted}{event!r}"
                + (f" for {distinct_id!r}" if distinct_id else "")
                + (f" with {properties}" if properties else "")
                + f", found {len(matches)}. Emitted:\n{self.describe()}"
            )
        return matches

    def assert_not_tracked(self, event: str) -> None:
        found = self.named(event)
        if found:
            raise AssertionError(f"expected no {event!r}, found {len(found)}:\n{self.describe()}")

    def describe(self) -> str:
        events = self._events()
        if not events:
            return "  (nothing)"
        lines = []
        for e in events:
            props = {k: v for k, v in e["properties"].items() if k not in _NOISE}
            lines.append(f"  {e['event']!r} {e['properties'].get('distinct_id')!r} {props}")
        return "\n".join(lines)

    def clear(self) -> None:
        self.client.flush(timeout=5.0)
        self.transport.clear()


_NOISE = frozenset({"token", "time", "$insert_id", "mp_lib", "$lib_version", "distinct_id"})


def _has(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    return all(k in actual and actual[k] == v for k, v in expected.items())
