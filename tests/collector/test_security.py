"""The security model: ingest open to every origin, the query and control API to no other."""

from __future__ import annotations

import json

import httpx

from mixtrack.collector import CollectorApp, CollectorServer, SqliteStore
from mixtrack.collector._access import is_loopback, matches
from mixtrack.testing._collector import Collector
from tests.collector._helpers import CONTROL, event

EVIL = {"Origin": "http://localhost:9"}


def test_ingest_answers_any_origin_but_the_query_api_does_not(
    http: httpx.Client, collector: Collector
) -> None:
    answer = http.post("/track", data={"data": json.dumps([event()])}, headers=EVIL)
    assert answer.headers["Access-Control-Allow-Origin"] == EVIL["Origin"]
    preflight = http.options("/import", headers=EVIL | {"Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == EVIL["Origin"]
    for method, path in (("GET", "/_mixtrack/events"), ("OPTIONS", "/_mixtrack/reset")):
        answer = http.request(method, path, headers=EVIL)
        assert answer.status_code == 403
        assert "access-control-allow-origin" not in answer.headers


def test_a_simple_cross_origin_post_cannot_reset_or_fault(
    http: httpx.Client, collector: Collector
) -> None:
    assert http.post("/import", json=[event()]).status_code == 200
    forged = {"Content-Type": "text/plain"}
    for path, body in (("/_mixtrack/reset", ""), ("/_mixtrack/faults", '{"kind": "status"}')):
        # From another page (Origin set), and from a program that forgot the header.
        assert http.post(path, content=body, headers=forged | EVIL).status_code == 403
        assert http.post(path, content=body, headers=forged).status_code == 403
        assert http.post(path, content=body, headers=CONTROL | forged).status_code == 403
    assert len(collector.events()) == 1 and http.get("/_mixtrack/faults").json()["faults"] == []
    # The live view's own same-origin requests still work.
    same = {"Origin": collector.url}
    assert http.get("/_mixtrack/stats", headers=same).status_code == 200
    ok = http.post("/_mixtrack/reset", json={}, headers=CONTROL | same)
    assert ok.status_code == 200 and collector.events() == []


def test_a_host_that_is_not_this_machine_is_refused_on_loopback(http: httpx.Client) -> None:
    # DNS rebinding: a page's own name resolving to 127.0.0.1.
    answer = http.get("/_mixtrack/events", headers={"Host": "evil.example:8765"})
    assert answer.status_code == 403 and "evil.example" in answer.json()["error"]
    assert http.get("/", headers={"Host": "evil.example"}).status_code == 403
    assert http.get("/", headers={"Host": "localhost"}).status_code == 200


def test_with_a_secret_the_query_and_control_api_and_live_view_need_credentials() -> None:
    with Collector(secrets=["s3cret"]) as collector:
        url = collector.url
        with httpx.Client(base_url=url, trust_env=False) as anyone:
            for path in ("/_mixtrack/events", "/_mixtrack/rejected", "/"):
                answer = anyone.get(path)
                assert answer.status_code == 401, path
                assert answer.headers["WWW-Authenticate"].startswith("Basic")
            wrong = anyone.get("/_mixtrack/stats", auth=("nope", ""))
            assert wrong.status_code == 401
            assert anyone.get("/_mixtrack/stats", auth=("s3cret", "")).status_code == 200
            # /track stays open, as Mixpanel's is; the fixture's own client has the key.
            assert anyone.post("/track", data={"data": json.dumps(event())}).text == "1"
        assert len(collector.events()) == 1
        collector.reset()
        assert collector.events() == []


def test_secrets_are_redacted_in_the_rejected_log() -> None:
    with Collector(secrets=["s3cret-value", "svc:pa55word-x"]) as collector:
        with httpx.Client(base_url=collector.url, trust_env=False) as http:
            http.post("/import?api_key=wrong-key&verbose=1", content=b"[not json")
            http.post("/import", data={"data": "[1", "api_secret": "s3cret-value"})
            http.post("/import?project_id=1&x=pa55word-x", content=b"{")
        shown = json.dumps(collector.rejected())
    assert "wrong-key" not in shown and "s3cret-value" not in shown
    assert "pa55word-x" not in shown and shown.count("[redacted]") >= 3


def test_service_accounts_must_name_the_configured_project() -> None:
    store = SqliteStore(":memory:")
    app = CollectorApp(store, secrets=["svc:pw"], project_id="42")
    server = CollectorServer(app, port=0).start()
    try:
        with httpx.Client(base_url=server.url, trust_env=False, auth=("svc", "pw")) as http:
            assert http.post("/import?project_id=7", json=[event()]).status_code == 401
            assert http.post("/import?project_id=42", json=[event()]).status_code == 200
    finally:
        server.stop()


def test_credentials_are_compared_against_every_key() -> None:
    assert matches("b", ["a", "b", "c"]) and not matches("bb", ["a", "b"])
    assert not matches("é", ["e"])  # non-ASCII compares as bytes, no TypeError
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("10.0.0.2")
