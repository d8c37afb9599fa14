"""Decoding every wire form the official Mixpanel clients use (pure functions)."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote, urlencode

import pytest

from mixtrack.protocol.decode import WireError, WireRequest, decode, endpoint_of

EVENTS = [{"event": "Signed up", "properties": {"distinct_id": "u+1/é", "plan": "pro?>"}}]


def request(
    method: str = "POST", query: str = "", body: bytes = b"", **headers: str
) -> WireRequest:
    return WireRequest(
        method, "/track", query, {k.replace("_", "-"): v for k, v in headers.items()}, body
    )


def b64(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_python_form_body_with_json_data() -> None:
    # mixpanel-python: requests form-encodes data=<json>&verbose=1&ip=0
    body = urlencode({"data": json.dumps(EVENTS), "verbose": 1, "ip": 0}).encode()
    payload = decode(request(body=body, content_type="application/x-www-form-urlencoded"), "track")
    assert payload.records == EVENTS
    assert payload.form and payload.verbose and not payload.strict


def test_node_get_with_base64_in_query() -> None:
    query = urlencode({"ip": 0, "verbose": 0, "data": b64(EVENTS[0])})
    payload = decode(request("GET", query=query), "track")
    assert payload.records == EVENTS
    assert not payload.verbose


def test_node_batch_post_base64_not_url_encoded() -> None:
    # '+' in raw base64 arrives as a space once form-decoded; the decoder must undo that.
    data = b64([{"event": "e>>>?", "properties": {"x": "~~~~>>>>"}}] * 3)
    assert "+" in data or "/" in data
    payload = decode(request(body=f"data={data}".encode()), "track")
    assert payload.records[0]["properties"]["x"] == "~~~~>>>>"


def test_browser_url_encoded_base64_and_json() -> None:
    for data in (b64(EVENTS), json.dumps(EVENTS)):
        body = f"data={quote(data, safe='')}".encode()
        payload = decode(request(query="verbose=1&ip=1&_=1700000000000", body=body), "track")
        assert payload.records == EVENTS and payload.verbose


def test_send_beacon_text_plain_body() -> None:
    body = f"data={quote(b64(EVENTS), safe='')}".encode()
    payload = decode(request(body=body, content_type="text/plain;charset=UTF-8"), "track")
    assert payload.records == EVENTS


def test_json_gzip_and_ndjson_bodies_on_import() -> None:
    body = gzip.compress(json.dumps(EVENTS * 2).encode())
    payload = decode(
        request(body=body, content_encoding="gzip", content_type="application/json"), "import"
    )
    assert payload.records == EVENTS * 2 and not payload.form
    ndjson = "\n".join(json.dumps(e) for e in EVENTS * 3).encode()
    payload = decode(request(body=ndjson, content_type="application/x-ndjson"), "import")
    assert payload.records == EVENTS * 3


def test_single_object_becomes_one_record() -> None:
    payload = decode(request(body=json.dumps(EVENTS[0]).encode()), "import")
    assert payload.records == EVENTS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"data=%7Bnot-json", "data is not valid JSON"),
        (b"data=!!!!", "neither JSON nor base64"),
        (b"verbose=1", "no data"),
        (b"data=" + base64.b64encode(b"\xff\xfe"), "base64 but not of JSON"),
        (b"[1, 2", "body is not valid JSON"),
        (b"data=%22text%22", "neither JSON nor base64"),
        (b"data=" + base64.b64encode(b'"just a string"'), "must be a JSON object or array"),
    ],
)
def test_malformed_payloads_name_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message) as caught:
        decode(request(body=body), "track")
    assert caught.value.status == 400


def test_bad_gzip_and_oversize() -> None:
    with pytest.raises(WireError, match="does not inflate"):
        decode(request(body=b"\x1f\x8bnot gzip", content_encoding="gzip"), "import")
    bomb = gzip.compress(b"[" + b" " * (11 * 1024 * 1024) + b"]")
    with pytest.raises(WireError, match="exceeds max limit of 10485760 bytes") as caught:
        decode(request(body=bomb, content_encoding="gzip"), "import")
    assert caught.value.status == 413
    with pytest.raises(WireError, match="2001 records") as caught:
        decode(request(body=json.dumps([{}] * 2001).encode()), "import")
    assert caught.value.status == 413


def test_endpoint_names() -> None:
    assert [endpoint_of(p) for p in ("/track", "/track/", "/engage/", "/import", "/x")] == [
        "track",
        "track",
        "engage",
        "import",
        None,
    ]


def test_text_is_decoded_as_mixpanel_decodes_it() -> None:
    from mixtrack.protocol.decode import text_of

    tree = "🌳".encode("utf-16-le")
    halves = [int.from_bytes(tree[i : i + 2], "little") for i in (0, 2)]
    cesu = "".join(map(chr, halves)).encode("utf-8", "surrogatepass")
    assert cesu == b"\xed\xa0\xbc\xed\xbc\xb3"  # what mixpanel-browser's base64 carries
    assert text_of(b"caf\xc3\xa9 " + cesu) == "café 🌳"
    assert text_of(b"x" + cesu[:3]) == "x\ufffd"  # half a pair
    assert text_of(b"\xff ok") == "\ufffd ok"
    assert text_of("𠮷".encode()) == "𠮷"  # proper UTF-8 is left alone
