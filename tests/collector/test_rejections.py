"""Every refusal is answered as Mixpanel answers it and kept, with its reason, in /rejected."""

from __future__ import annotations

import gzip
import json
import time

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixtrack.testing._collector import Collector
from tests.collector._helpers import event


def test_each_record_rule_over_http(http: httpx.Client, collector: Collector) -> None:
    now = time.time()
    records = [
        event("Good", **{"$insert_id": "ok-1"}),
        {"properties": {"token": "tok", "distinct_id": "u", "time": now}},
        event(distinct_id="anonymous"),
        {"event": "No id", "properties": {"token": "tok", "time": now}},
        event(time=now + 7200),
        event(time="noon"),
        event(**{"$insert_id": "x" * 40}),
        event(**{f"p{i}": i for i in range(256)}),
        event(nested={"a": {"b": {"c": {"d": 1}}}}),
        event(items=list(range(256))),
        {"event": "No token", "properties": {"distinct_id": "u", "time": now}},
        "not an object",
    ]
    answer = http.post("/import?strict=1", json=records)
    assert answer.status_code == 400
    body = answer.json()
    assert body["num_records_imported"] == 1
    fields = [(f["index"], f["field"]) for f in body["failed_records"]]
    assert fields == [
        (1, "event"),
        (2, "properties.distinct_id"),
        (3, "properties.distinct_id"),
        (4, "properties.time"),
        (5, "properties.time"),
        (6, "properties.$insert_id"),
        (7, "properties"),
        (8, "properties.nested"),
        (9, "properties.items"),
        (10, "properties.token"),
        (11, ""),
    ]
    [rejection] = collector.rejected()
    assert rejection["status"] == 400 and rejection["endpoint"] == "import"
    assert rejection["reason"].startswith("11 of 12 records refused: 'event' must be")
    assert rejection["failed_records"] == body["failed_records"]
    assert [e["event"] for e in collector.events()] == ["Good"]
    assert collector.stats()["rejected_records"] == 11


def test_old_events_on_track_point_to_import(http: httpx.Client, collector: Collector) -> None:
    old = event(time=time.time() - 6 * 86400)
    answer = http.post("/track", data={"data": json.dumps([old]), "verbose": "1"})
    assert answer.status_code == 400
    assert "more than 5 days old; send historical events to /import" in answer.json()["error"]
    assert http.post("/import", json=[old]).status_code == 200


def test_request_level_refusals_are_recorded(http: httpx.Client, collector: Collector) -> None:
    http.post("/track", content=b"data=%7B%22broken")
    http.post("/import", content=b"\x1f\x8b garbage", headers={"Content-Encoding": "gzip"})
    http.post("/engage", content=gzip.compress(b"[" + b"1," * 1_200_000 + b"1]"))
    http.get("/groups")
    reasons = [(r["endpoint"], r["status"], r["reason"]) for r in collector.rejected()]
    assert reasons[0][:2] == ("track", 400) and "data is not valid JSON" in reasons[0][2]
    assert reasons[1][:2] == ("import", 400) and "does not inflate" in reasons[1][2]
    assert reasons[1][0] == "import" and collector.rejected()[1]["excerpt"].endswith("gzip>")
    assert reasons[2] == ("engage", 413, "request exceeds max limit of 2097152 bytes")
    assert reasons[3] == ("groups", 400, "no data: send events in a data= field or as a JSON body")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
RECORDS = st.lists(
    st.fixed_dictionaries(
        {"event": JSON | st.text(max_size=10)},
        optional={
            "properties": st.dictionaries(
                st.sampled_from(["token", "distinct_id", "time", "$insert_id", "x"]), JSON
            ),
            "$token": JSON,
            "$distinct_id": JSON,
            "$group_key": JSON,
            "$set": JSON,
            "$add": JSON,
            "$unset": JSON,
        },
    ),
    max_size=5,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(["/track", "/engage/", "/groups", "/import"]),
    body=st.one_of(
        st.binary(max_size=300),
        st.builds(lambda v: b"data=" + json.dumps(v).encode(), JSON | RECORDS),
        st.builds(lambda v: json.dumps(v).encode(), JSON | RECORDS),
    ),
    gzipped=st.booleans(),
)
def test_no_input_crashes_the_server(
    http: httpx.Client, path: str, body: bytes, gzipped: bool
) -> None:
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    answer = http.post(path, content=gzip.compress(body) if gzipped else body, headers=headers)
    assert answer.status_code in (200, 400, 413), answer.text
    assert http.get("/_mixtrack/stats").status_code == 200


def test_one_broken_ndjson_line_costs_only_itself(http: httpx.Client, collector: Collector) -> None:
    lines = [
        json.dumps(event("First")),
        '{"event": "Broken", "properties": {',
        json.dumps(event("Last")),
    ]
    answer = http.post(
        "/import?strict=1",
        content="\n".join(lines).encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["num_records_imported"] == 2
    [failed] = body["failed_records"]
    assert failed["index"] == 1 and failed["message"].startswith("line 2 is not valid JSON")
    assert [e["event"] for e in collector.events()] == ["First", "Last"]
    [rejection] = collector.rejected()
    assert rejection["reason"].startswith("1 of 3 records refused: line 2 is not valid JSON")


def test_track_keeps_the_good_records_of_a_batch_and_answers_1(
    http: httpx.Client, collector: Collector
) -> None:
    records = [event("Good"), event("Bad", distinct_id="anonymous"), event("Also good")]
    answer = http.post("/track/", data={"data": json.dumps(records), "verbose": "1"})
    assert (answer.status_code, answer.json()) == (200, {"status": 1, "error": None})
    assert [e["event"] for e in collector.events()] == ["Good", "Also good"]
    [rejection] = collector.rejected()
    assert rejection["failed_records"][0]["index"] == 1
    assert "placeholder" in rejection["reason"]


def test_half_an_emoji_in_json_becomes_the_replacement_character(
    http: httpx.Client, collector: Collector
) -> None:
    # JSON.stringify writes half a surrogate pair as an escape; the rest of the batch stays.
    body = (
        '[{"event": "Cut", "properties": {"token": "tok", "distinct_id": "u", "s": "ab\\ud83d"}},'
    )
    body += (
        '{"event": "Whole", "properties": {"token": "tok", "distinct_id": "u",'
        ' "s": "\\ud83d\\ude00"}}]'
    )
    assert http.post("/track", data={"data": body}).content == b"1"
    stored = {e["event"]: e["properties"]["s"] for e in collector.events()}
    assert stored == {"Cut": "ab\ufffd", "Whole": "😀"}
