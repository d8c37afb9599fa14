"""Hostile record content costs only its record: Mixpanel's answer, never a 5xx."""

from __future__ import annotations

import base64
import json

import httpx

from mixtrack.testing._collector import Collector
from tests.collector._helpers import CONTROL, event

GOOD = event("Good")


def raw_import(http: httpx.Client, body: str) -> httpx.Response:
    return http.post("/import", content=body, headers={"Content-Type": "application/json"})


def with_bad(bad_properties: str) -> str:
    """A batch: a good event, then one whose properties text is spliced in raw."""
    bad = '{"event": "Bad", "properties": {"token": "tok", "distinct_id": "u", ' + bad_properties
    return "[" + json.dumps(GOOD) + ", " + bad + "}}]"


def test_nan_infinity_huge_and_deep_records_cost_only_themselves_on_import(
    http: httpx.Client, collector: Collector
) -> None:
    cases = {
        "time NaN": '"time": NaN',
        "Infinity": f'"time": {GOOD["properties"]["time"]}, "x": Infinity',
        "1e400": f'"time": {GOOD["properties"]["time"]}, "x": 1e400',
        "4301 digits": f'"time": {GOOD["properties"]["time"]}, "x": {"9" * 4301}',
        "1100 deep": f'"time": {GOOD["properties"]["time"]}, "x": {"[" * 1100}{"]" * 1100}',
    }
    for name, bad in cases.items():
        collector.reset()
        answer = raw_import(http, with_bad(bad))
        assert answer.status_code == 400, (name, answer.text)
        doc = answer.json()
        assert doc["num_records_imported"] == 1, name
        assert [f["index"] for f in doc["failed_records"]] == [1], name
        assert [e["event"] for e in collector.events()] == ["Good"], name


def test_bad_records_on_track_and_engage_keep_their_neighbours(
    http: httpx.Client, collector: Collector
) -> None:
    data = with_bad('"x": NaN')
    answer = http.post("/track", data={"data": base64.b64encode(data.encode()).decode()})
    assert (answer.status_code, answer.text) == (200, "1")
    assert [e["event"] for e in collector.events()] == ["Good"]
    updates = (
        '[{"$token": "tok", "$distinct_id": "u1", "$set": {"plan": "pro"}},'
        ' {"$token": "tok", "$distinct_id": "u2", "$set": {"n": NaN}}]'
    )
    answer = http.post("/engage", data={"data": updates, "verbose": "1"})
    assert answer.status_code == 400 and answer.json()["status"] == 0
    assert collector.profile("u1") is not None and collector.profile("u2") is None
    # The same record in strict mode names its index, as /import does.
    answer = http.post("/engage", data={"data": updates, "strict": "1"})
    assert [f["index"] for f in answer.json()["failed_records"]] == [1]


def test_accepted_numbers_come_back_equal_in_value(
    http: httpx.Client, collector: Collector
) -> None:
    big = 2**70 + 1
    negative = -(2**64) - 3
    record = event("Numbers", big=big, negative=negative, small=1.5, exact=2**63)
    assert raw_import(http, json.dumps([record])).status_code == 200
    (stored,) = collector.events("Numbers")
    assert stored["properties"]["big"] == big and isinstance(stored["properties"]["big"], int)
    assert stored["properties"]["negative"] == negative
    assert stored["properties"]["exact"] == 2**63
    # And through the raw query API, byte for byte the same integer.
    assert str(big) in http.get("/_mixtrack/events", params={"event": "Numbers"}).text


def test_add_past_the_range_of_a_double_keeps_the_value(
    http: httpx.Client, collector: Collector
) -> None:
    add = {"$token": "tok", "$distinct_id": "u", "$add": {"score": 1e308}}
    for _ in range(2):
        assert http.post("/engage", data={"data": json.dumps(add)}).text == "1"
    assert collector.profile("u") == {"score": 1e308}


def test_gzip_that_does_not_inflate_gets_the_json_error_shape(http: httpx.Client) -> None:
    answer = http.post(
        "/import",
        content=b"\x1f\x8b\x08\x00not gzip at all",
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == 400 and "gzip" in answer.json()["error"]


def test_out_of_range_query_parameters_and_fault_values_are_400s_naming_them(
    http: httpx.Client,
) -> None:
    for name in ("offset", "after", "limit"):
        answer = http.get("/_mixtrack/events", params={name: str(2**63)})
        assert answer.status_code == 400 and name in answer.json()["error"]
    for name, value in (("since", "nan"), ("until", "1e999")):
        answer = http.get("/_mixtrack/events", params={name: value})
        assert answer.status_code == 400 and name in answer.json()["error"]
    for spec in ({"kind": "delay", "delay": 1e308}, {"kind": "status", "seconds": 1e308}):
        answer = http.post("/_mixtrack/faults", json=spec, headers=CONTROL)
        assert answer.status_code == 400, answer.text
        assert next(iter(set(spec) - {"kind"})) in answer.json()["error"]
    assert http.get("/_mixtrack/faults").json() == {"faults": []}
