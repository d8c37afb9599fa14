"""Without ``consumer=``, compat messages go through mixtrack's batching worker, unchanged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import mixpanel
import pytest

import mixtrack
from mixtrack import compat
from mixtrack.testing import InMemoryTransport, decode_request
from mixtrack.transport import Request


class Recording:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send(self, endpoint: str, json_message: str, *auth: Any) -> None:
        self.sent.append((endpoint, json.loads(json_message)))


def frozen(mp: Any) -> Any:
    mp._now = lambda: 1_700_000_000.5
    mp._make_insert_id = lambda: "feedc0de"
    return mp


def calls(mp: Any) -> None:
    mp.track("user-42", "Signed up", {"plan": "pro"})
    mp.import_data(None, "user-42", "Bought", 1_600_000_000, {"sku": "A"})
    mp.people_set("user-42", {"$email": "a@b.c"})
    mp.group_set("company", "acme", {"plan": "pro"})


ROUTE = {"events": "track", "imports": "import", "people": "engage", "groups": "groups"}


def test_background_consumer_delivers_mixpanel_pythons_messages_to_its_endpoints() -> None:
    transport = InMemoryTransport()
    client = mixtrack.Client("PROJECT_TOKEN", transport=transport, flush_interval=0.05)
    consumer = compat.BackgroundConsumer(client=client)
    calls(frozen(compat.Mixpanel("PROJECT_TOKEN", consumer=consumer)))
    assert consumer.flush(timeout=5)

    reference = Recording()
    calls(frozen(mixpanel.Mixpanel("PROJECT_TOKEN", consumer=reference)))
    for endpoint, message in reference.sent:
        assert transport.messages(ROUTE[endpoint]) == [message], endpoint
    assert client.stats().sent == 4
    assert consumer.shutdown(timeout=5)


def test_import_secret_authenticates_its_own_requests() -> None:
    transport = InMemoryTransport()
    consumer = compat.BackgroundConsumer(transport=transport, flush_interval=0.05)
    mp = compat.Mixpanel("PROJECT_TOKEN", consumer=consumer)
    mp.import_data(None, "user-42", "Bought", 1_600_000_000, api_secret="SECRET")
    mp.track("user-42", "Signed up")
    assert consumer.flush(timeout=5)
    by_route = {decode_request(r)[0]: r for r in transport.requests}
    assert by_route["import"].headers["Authorization"] == "Basic U0VDUkVUOg=="  # SECRET:
    assert len(consumer.clients) == 2
    assert consumer.shutdown(timeout=5)


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items()}
                request = Request("POST", f"http://sink{self.path}", headers, body, 1.0)
                route, messages = decode_request(request)
                sink.messages.extend((route, m) for m in messages)
                answer = b'{"status":1,"error":null}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    yield server
    server.http.shutdown()
    server.http.server_close()


def test_an_unchanged_app_is_pointed_at_a_local_collector_by_environment(
    sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIXTRACK_API_HOST", sink.url)
    monkeypatch.setenv("MIXTRACK_FLUSH_INTERVAL", "0.05")
    mp = compat.Mixpanel("PROJECT_TOKEN")  # no consumer: the background one
    mp.track("user-42", "Signed up", {"plan": "pro"})
    mp.people_set("user-42", {"$email": "a@b.c"})
    consumer = mp._consumer
    assert isinstance(consumer, compat.BackgroundConsumer)
    assert consumer.shutdown(timeout=5)
    routes = sorted(route for route, _ in sink.messages)
    assert routes == ["engage", "track"]
    event = next(m for r, m in sink.messages if r == "track")
    assert event["properties"]["mp_lib"] == "python" and event["properties"]["plan"] == "pro"


def test_bad_endpoint_and_oversized_messages_raise_mixpanel_exception() -> None:
    consumer = compat.BackgroundConsumer(transport=InMemoryTransport())
    with pytest.raises(compat.MixpanelException, match="No such endpoint"):
        consumer.send("nowhere", "{}")
    huge = json.dumps({"event": "Big", "properties": {"token": "t", "blob": "x" * 1_100_000}})
    with pytest.raises(compat.MixpanelException, match="bytes"):
        consumer.send("events", huge)
    consumer.shutdown(timeout=1)
