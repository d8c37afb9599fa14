"""Every injected fault mode, seen from a client on the wire."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest

from mixtrack.testing._collector import Collector
from tests.collector._helpers import CONTROL, event


def batch(n: int) -> list[dict[str, object]]:
    return [event(distinct_id=f"user-{i}", **{"$insert_id": f"id-{i}"}) for i in range(n)]


def test_status_with_retry_after_for_n_requests(http: httpx.Client, collector: Collector) -> None:
    collector.faults("status", status=503, retry_after=2, count=2)
    answers = [http.post("/import", json=batch(1)) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["retry-after"] == "2"
    assert answers[0].json()["status"] == "Service Unavailable"
    assert len(collector.events()) == 1
    assert collector.stats()["faulted_requests"] == 2


def test_429_carries_mixpanels_rate_limit_message(http: httpx.Client, collector: Collector) -> None:
    collector.faults("status", status=429, retry_after=0.5)
    answer = http.post("/import", json=batch(1))
    assert answer.status_code == 429 and answer.headers["retry-after"] == "0.5"
    assert answer.json()["error"].startswith("Project exceeded rate limits")
    legacy = collector.faults("status", status=429)
    assert legacy
    form = http.post("/track", data={"data": json.dumps(batch(1)), "verbose": "1"})
    assert form.status_code == 429 and form.json()["status"] == 0


def test_fault_scoped_to_an_endpoint(http: httpx.Client, collector: Collector) -> None:
    collector.faults("status", status=500, endpoints=["engage"], seconds=60)
    assert http.post("/track", data={"data": json.dumps(batch(1))}).status_code == 200
    update = {"$token": "tok", "$distinct_id": "u", "$set": {"a": 1}}
    assert http.post("/engage", data={"data": json.dumps([update])}).status_code == 500
    assert http.post("/engage/", data={"data": json.dumps([update])}).status_code == 500
    assert collector.clear_faults() == 1
    assert http.post("/engage", data={"data": json.dumps([update])}).content == b"1"


def test_delay_then_normal_handling(http: httpx.Client, collector: Collector) -> None:
    collector.faults("delay", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        http.post("/import", json=batch(2), timeout=0.2)
    # The slow request was still handled: its events are stored once it completes.
    assert len(collector.wait_for(2)) == 2


def test_hang_until_cleared(collector: Collector) -> None:
    collector.faults("hang")
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            httpx.post(f"{collector.url}/import", json=batch(1), timeout=10, trust_env=False)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(0.5)
    assert sender.is_alive()  # no answer while the fault lasts
    collector.clear_faults()
    sender.join(5)
    assert not sender.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)  # dropped, never answered
    assert collector.events() == []


def test_hang_for_a_time_span(http: httpx.Client, collector: Collector) -> None:
    collector.faults("hang", seconds=0.3)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/import", json=batch(1), timeout=10)
    assert http.post("/import", json=batch(1)).status_code == 200


def test_connection_reset(collector: Collector) -> None:
    collector.faults("reset", count=1)
    host, port = collector.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        body = json.dumps(batch(1)).encode()
        sock.sendall(
            b"POST /import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    assert httpx.post(f"{collector.url}/import", json=batch(1), trust_env=False).status_code == 200


def test_too_large(http: httpx.Client, collector: Collector) -> None:
    collector.faults("too_large", endpoints="import")
    answer = http.post("/import", json=batch(3))
    assert answer.status_code == 413
    assert answer.json() == {
        "code": 413,
        "error": "request exceeds max limit of 10485760 bytes",
        "status": "Request Entity Too Large",
    }
    assert collector.events() == []


def test_partial_failure_by_indices_and_fraction(http: httpx.Client, collector: Collector) -> None:
    collector.faults("partial", indices=[1, 3])
    answer = http.post("/import?strict=1", json=batch(5))
    assert answer.status_code == 400
    body = answer.json()
    assert body["num_records_imported"] == 3
    assert [(f["index"], f["insert_id"]) for f in body["failed_records"]] == [
        (1, "id-1"),
        (3, "id-3"),
    ]
    collector.faults("partial", fraction=0.5)
    answer = http.post("/import?strict=1", json=batch(4))
    assert answer.json()["num_records_imported"] == 2
    stored = [e["properties"]["$insert_id"] for e in collector.events()]
    assert stored == ["id-0", "id-2", "id-4", "id-0", "id-2"]


def test_bad_fault_specs_are_refused_with_the_value(
    http: httpx.Client, collector: Collector
) -> None:
    with pytest.raises(ValueError, match=r"fault kind must be one of .*got 'explode'"):
        collector.faults("explode")
    with pytest.raises(ValueError, match=r"fault endpoint .*got 'nowhere'"):
        collector.faults("status", endpoints=["nowhere"])
    answer = http.post("/_mixtrack/faults", json={"kind": "status", "status": 42}, headers=CONTROL)
    assert answer.status_code == 400 and "got 42" in answer.json()["error"]
    answer = http.post("/_mixtrack/faults", json={"kind": "delay", "sleep": 1}, headers=CONTROL)
    assert "unknown fault fields ['sleep']" in answer.json()["error"]
    assert http.get("/_mixtrack/faults").json() == {"faults": []}
