"""What the collector answers, byte for byte, and what it records, over real HTTP."""

from __future__ import annotations

import base64
import gzip
import json

import httpx

from mixtrack.testing import _collector
from tests.collector._helpers import event

Collector = _collector.Collector


def form(records: object, **params: object) -> dict[str, str]:
    return {"data": json.dumps(records), **{k: str(v) for k, v in params.items()}}


def test_legacy_answers_are_exact(http: httpx.Client) -> None:
    plain = http.post("/track", data=form([event()]))
    assert (plain.status_code, plain.content) == (200, b"1")
    verbose = http.post("/track/", data=form([event()], verbose=1, ip=0))
    assert verbose.content == b'{"status": 1, "error": null}'
    refused = http.post("/track", data=form([{"event": "e"}]))
    assert (refused.status_code, refused.content) == (400, b"0")
    refused = http.post("/track", data=form([{"event": "e"}], verbose=1))
    assert refused.json() == {
        "status": 0,
        "error": "1 of 1 records refused: 'properties' must be a JSON object, got null",
    }


def test_import_json_answers(http: httpx.Client) -> None:
    body = gzip.compress(
        json.dumps([event(**{"$insert_id": f"id-{i}"}) for i in range(3)]).encode()
    )
    ok = http.post(
        "/import?strict=1",
        content=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        auth=("tok", ""),
    )
    assert (ok.status_code, ok.content) == (
        200,
        b'{"code": 200, "num_records_imported": 3, "status": "OK"}',
    )
    records = [event(**{"$insert_id": "good"}), event(**{"$insert_id": "bad id!"})]
    partial = http.post("/import?strict=1", json=records)
    assert partial.status_code == 400
    assert partial.json() == {
        "code": 400,
        "error": "some data points in the request failed validation",
        "status": "Bad Request",
        "num_records_imported": 1,
        "failed_records": [
            {
                "index": 1,
                "insert_id": "bad id!",
                "field": "properties.$insert_id",
                "message": "'$insert_id' must be 1 to 36 characters of A-Z, a-z, 0-9 and '-', "
                "got 'bad id!'",
            }
        ],
    }


def test_form_import_gets_the_legacy_shape(http: httpx.Client) -> None:
    answer = http.post("/import", data=form([event()], verbose=1), auth=("secret", ""))
    assert answer.content == b'{"status": 1, "error": null}'


def test_oversize_answers_413_with_mixpanels_message(
    http: httpx.Client, collector: Collector
) -> None:
    answer = http.post("/import", json=[event()] * 2001)
    assert answer.status_code == 413
    assert answer.json()["error"] == "request has 2001 records; the limit is 2000 per request"
    big = json.dumps([event(blob="x" * 250)] * 9000).encode()
    answer = http.post("/track", content=b"data=" + base64.b64encode(big))
    assert (answer.status_code, answer.content) == (413, b"0")
    reasons = [r["reason"] for r in collector.rejected()]
    assert reasons[-1] == "request exceeds max limit of 2097152 bytes"


def test_cors_echoes_origin_and_answers_preflight(http: httpx.Client) -> None:
    origin = "http://localhost:3000"
    answer = http.post("/track/?verbose=1", data=form([event()]), headers={"Origin": origin})
    assert answer.headers["access-control-allow-origin"] == origin
    assert answer.headers["access-control-allow-credentials"] == "true"
    preflight = http.options(
        "/track/",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-custom, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-headers"] == "x-custom, content-type"
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_duplicates_are_dropped_and_counted(http: httpx.Client, collector: Collector) -> None:
    first = event(**{"$insert_id": "same-id"})
    retried = json.loads(json.dumps(first))
    retried["properties"]["extra"] = "ignored"
    other_time = json.loads(json.dumps(first))
    other_time["properties"]["time"] -= 10
    for batch in ([first], [retried, other_time]):
        assert http.post("/track", data=form(batch)).content == b"1"
    assert len(collector.events("Signed up")) == 2
    stats = collector.stats()
    assert (stats["events_stored"], stats["duplicates_dropped"]) == (2, 1)


def test_events_without_insert_id_are_never_deduplicated(
    http: httpx.Client, collector: Collector
) -> None:
    same = event()
    http.post("/track", data=form([same, same]))
    assert len(collector.events()) == 2


def test_bad_request_keeps_earlier_good_data(http: httpx.Client, collector: Collector) -> None:
    http.post("/track", data=form([event("Kept")]))
    assert http.post("/track", content=b"data=%%%broken").status_code == 400
    assert http.post("/engage", content=b"\x00\xff garbage").status_code == 400
    assert [e["event"] for e in collector.events()] == ["Kept"]
    assert collector.stats()["rejected"] == 2


def test_unknown_routes_and_methods(http: httpx.Client) -> None:
    assert http.get("/nope").status_code == 404
    assert "no such endpoint '/nope'" in http.get("/nope").json()["error"]
    assert http.delete("/track").status_code == 405
    assert http.get("/_mixtrack/audit").status_code == 200  # the exposure audit
    assert http.get("/_mixtrack/unknown").json()["error"].startswith("no such route")


def test_import_auth_enforced_when_started_with_secrets() -> None:
    with Collector(secrets=["s3cret", "svc-user:svc-pass"], tokens=["tok"]) as collector:
        with httpx.Client(base_url=collector.url, trust_env=False) as http:
            body = [event()]
            denied = http.post("/import", json=body, auth=("wrong", ""))
            assert (denied.status_code, denied.json()) == (
                401,
                {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"},
            )
            assert http.post("/import", json=body).status_code == 401
            assert http.post("/import", json=body, auth=("s3cret", "")).status_code == 200
            assert http.post("/import", json=body, auth=("tok", "")).status_code == 200
            account = ("svc-user", "svc-pass")
            assert http.post("/import", json=body, auth=account).status_code == 401
            assert http.post("/import?project_id=1", json=body, auth=account).status_code == 200
            assert http.post("/import?api_key=s3cret", json=body).status_code == 200
            # /track never asks for credentials, but checks the token.
            assert http.post("/track", data=form([event()])).content == b"1"
            assert http.post("/track", data=form([event(token="other")])).content == b"0"
        assert [r["status"] for r in collector.rejected()] == [401, 401, 401, 400]
        assert len(collector.events()) == 5
