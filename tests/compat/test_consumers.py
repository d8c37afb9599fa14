"""Consumer and BufferedConsumer on the wire, checked the way apps test them: with ``responses``
(side by side with mixpanel-python's consumers) and against a real local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mixpanel
import pytest
import responses

from mixtrack import compat

OK = {"status": 1, "error": None}


def form(request: Any) -> dict[str, list[str]]:
    return parse_qs(request.body if isinstance(request.body, str) else request.body.decode())


def exchange(module: Any, call: Any, **consumer_args: Any) -> list[Any]:
    """The requests that ``call(mp)`` makes through ``module.Consumer``."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for path in ("track", "engage", "groups", "import"):
            mock.add(responses.POST, f"https://api.example.test/{path}", json=OK)
        mp = module.Mixpanel("PROJECT_TOKEN", consumer=module.Consumer(**consumer_args))
        mp._now = lambda: 1_700_000_000.0
        mp._make_insert_id = lambda: "fixed"
        call(mp)
        return [c.request for c in mock.calls]


CASES = {
    "track": lambda mp: mp.track("user-42", "Signed up", {"plan": "pro"}),
    "people": lambda mp: mp.people_set("user-42", {"$email": "a@b.c"}),
    "groups": lambda mp: mp.group_set("company", "acme", {"plan": "pro"}),
    "import with secret": lambda mp: mp.import_data("KEY", "u", "Old", 1600000000, None, None, "S"),
    "merge with secret": lambda mp: mp.merge(None, "a", "b", api_secret="S"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_url_form_and_auth_as_mixpanel_python(name: str) -> None:
    theirs = exchange(mixpanel, CASES[name], api_host="api.example.test")
    ours = exchange(compat, CASES[name], api_host="api.example.test")
    assert len(ours) == len(theirs) == 1
    assert ours[0].url == theirs[0].url
    assert form(ours[0]) == form(theirs[0])
    assert form(ours[0])["verbose"] == ["1"] and form(ours[0])["ip"] == ["0"]
    assert ours[0].headers.get("Authorization") == theirs[0].headers.get("Authorization")


def test_service_account_goes_to_import_with_project_id() -> None:
    theirs_cred = mixpanel.ServiceAccountCredentials("sa", "secret", "123")
    ours_cred = compat.ServiceAccountCredentials("sa", "secret", "123")
    call = CASES["import with secret"]
    theirs = exchange(mixpanel, call, api_host="api.example.test", credentials=theirs_cred)
    ours = exchange(compat, call, api_host="api.example.test", credentials=ours_cred)
    assert ours[0].url == theirs[0].url and "project_id=123" in ours[0].url
    assert ours[0].headers["Authorization"] == theirs[0].headers["Authorization"]


@responses.activate
def test_buffered_consumer_batches_like_mixpanel_python() -> None:
    responses.add(responses.POST, "https://api.mixpanel.com/track", json=OK)
    consumer = compat.BufferedConsumer(max_size=3)
    mp = compat.Mixpanel("PROJECT_TOKEN", consumer=consumer)
    for n in range(7):
        mp.track("user-42", "Clicked", {"n": n})
    assert len(responses.calls) == 2  # two full batches of 3; one event still buffered
    consumer.flush()
    batches = [json.loads(form(c.request)["data"][0]) for c in responses.calls]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [e["properties"]["n"] for b in batches for e in b] == list(range(7))


@responses.activate
def test_refusals_and_unreachable_servers_raise_mixpanel_exception() -> None:
    responses.add(
        responses.POST, "https://api.mixpanel.com/track", json={"status": 0, "error": "bad"}
    )
    responses.add(responses.POST, "https://api.mixpanel.com/engage", body="not json")
    responses.add(responses.POST, "https://api.mixpanel.com/groups", json={"status": 0})
    mp = compat.Mixpanel("PROJECT_TOKEN", consumer=compat.Consumer())
    with pytest.raises(compat.MixpanelException, match="Mixpanel error: bad"):
        mp.track("user-42", "Signed up")
    with pytest.raises(compat.MixpanelException, match="Cannot interpret"):
        mp.people_set("user-42", {"a": 1})
    with pytest.raises(compat.MixpanelException, match="Mixpanel error"):
        mp.group_set("company", "acme", {"a": 1})  # no "error" key: still MixpanelException
    with pytest.raises(compat.MixpanelException, match="No such endpoint"):
        compat.Consumer().send("nowhere", "{}")


@responses.activate
def test_buffered_failure_carries_the_batch_and_endpoint() -> None:
    responses.add(
        responses.POST, "https://api.mixpanel.com/engage", json={"status": 0, "error": "x"}
    )
    consumer = compat.BufferedConsumer()
    compat.Mixpanel("PROJECT_TOKEN", consumer=consumer).people_set("user-42", {"a": 1})
    with pytest.raises(compat.MixpanelException) as caught:
        consumer.flush()
    assert caught.value.endpoint == "people"
    assert json.loads(caught.value.message)[0]["$distinct_id"] == "user-42"


@pytest.mark.parametrize(
    "consumer",
    [
        lambda: compat.Consumer(api_host="api-eu.mixpanel.com"),
        lambda: compat.BufferedConsumer(api_host="api-eu.mixpanel.com"),
        lambda: mixpanel.Consumer(api_host="api-eu.mixpanel.com"),
        lambda: compat.BackgroundConsumer(api_host="api-eu.mixpanel.com"),
    ],
)
@responses.activate
def test_alias_is_sent_at_once_to_the_consumers_host(consumer: Any) -> None:
    responses.add(responses.POST, "https://api-eu.mixpanel.com/track", json=OK)
    mp = compat.Mixpanel("PROJECT_TOKEN", consumer=consumer())
    mp.alias("user-42", "anon-7")
    assert len(responses.calls) == 1  # synchronous, even with a buffering consumer
    message = json.loads(form(responses.calls[0].request)["data"][0])
    assert message == {
        "event": "$create_alias",
        "properties": {"distinct_id": "anon-7", "alias": "user-42", "token": "PROJECT_TOKEN"},
    }


@responses.activate
def test_alias_with_an_unknown_consumer_uses_the_default_host() -> None:
    responses.add(responses.POST, "https://api.mixpanel.com/track", json=OK)

    class Custom:
        def send(self, *args: Any) -> None:
            raise AssertionError("alias must not go through a custom consumer")

    compat.Mixpanel("PROJECT_TOKEN", consumer=Custom()).alias("user-42", "anon-7")
    assert len(responses.calls) == 1


class FlakyServer:
    """A real server on 127.0.0.1 that answers 503 to the first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.hits.append(urlsplit(self.path).path)
                status, body = (503, b"busy") if len(server.hits) <= failures else (200, b"")
                body = body or json.dumps(OK).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def flaky() -> Iterator[FlakyServer]:
    server = FlakyServer(failures=2)
    yield server
    server.http.shutdown()
    server.http.server_close()


def test_retries_work_over_plain_http(flaky: FlakyServer) -> None:
    consumer = compat.Consumer(events_url=f"{flaky.url}/track", retry_backoff_factor=0)
    compat.Mixpanel("PROJECT_TOKEN", consumer=consumer).track("user-42", "Signed up")
    assert flaky.hits == ["/track"] * 3


def test_api_host_may_be_a_plain_http_url(flaky: FlakyServer) -> None:
    consumer = compat.Consumer(api_host=flaky.url, retry_backoff_factor=0)
    compat.Mixpanel("PROJECT_TOKEN", consumer=consumer).people_set("user-42", {"a": 1})
    assert flaky.hits[-1] == "/engage"
