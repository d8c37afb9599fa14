"""The pure wire layer: request encoding and reading Mixpanel's answers."""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from mixtrack import Config
from mixtrack._delivery.records import (
    dumps,
    encode_request,
    json_array,
    loads,
    parse_retry_after,
    read_answer,
    split_records,
)
from mixtrack.transport import Response

PAYLOADS = json_array(
    [b'{"event":"A","properties":{"token":"t"}}', b'{"event":"B","properties":{"token":"t"}}']
)


def basic(header: str) -> str:
    assert header.startswith("Basic ")
    return base64.b64decode(header[6:]).decode()


def test_import_request_is_gzip_json_with_token_auth_and_strict():
    request = encode_request(Config(token="tok", api_host="http://h:1/"), "import", PAYLOADS)
    assert request.method == "POST"
    assert request.url == "http://h:1/import?strict=1"
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.headers["Content-Type"] == "application/json"
    assert basic(request.headers["Authorization"]) == "tok:"
    assert [e["event"] for e in json.loads(gzip.decompress(request.body))] == ["A", "B"]


def test_import_auth_prefers_secret_then_service_account():
    secret = encode_request(Config(token="tok", api_secret="s3cret"), "import", PAYLOADS)
    assert basic(secret.headers["Authorization"]) == "s3cret:"
    account = encode_request(
        Config(token="tok", service_account=("sa.user", "pw"), project_id="123"), "import", PAYLOADS
    )
    assert basic(account.headers["Authorization"]) == "sa.user:pw"
    assert parse_qs(urlsplit(account.url).query) == {"strict": ["1"], "project_id": ["123"]}


def test_gzip_can_be_switched_off():
    request = encode_request(Config(token="tok", gzip=False), "import", PAYLOADS)
    assert "Content-Encoding" not in request.headers
    assert json.loads(request.body)[1]["event"] == "B"


@pytest.mark.parametrize("route", ["track", "engage", "groups"])
def test_form_endpoints_send_base64_data_verbose_and_no_ip(route):
    request = encode_request(
        Config(token="tok", api_host="https://api-eu.mixpanel.com"), route, PAYLOADS
    )
    assert request.url == f"https://api-eu.mixpanel.com/{route}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.body.decode())
    assert form["verbose"] == ["1"] and form["ip"] == ["0"]
    assert [e["event"] for e in json.loads(base64.b64decode(form["data"][0]))] == ["A", "B"]


def test_split_records_respects_the_byte_limit():
    payloads = [b"x" * 10] * 10
    runs = split_records(payloads, 35)  # "[" + 3 * 10 + 2 commas + "]" = 34
    assert [len(r) for r in runs] == [3, 3, 3, 1]
    assert split_records([b"y" * 100], 10) == [[b"y" * 100]]  # one oversize item stays alone


def answer(status, body=b"", headers=None):
    return Response(
        status, headers or {}, body if isinstance(body, bytes) else json.dumps(body).encode()
    )


def test_reading_success_answers():
    ok_import = {"code": 200, "num_records_imported": 2, "status": "OK"}
    assert read_answer("import", answer(200, ok_import), 2).verdict == "accepted"
    assert read_answer("track", answer(200, {"status": 1, "error": None}), 2).verdict == "accepted"
    assert read_answer("track", answer(200, b"1"), 2).verdict == "accepted"
    refused = read_answer("engage", answer(200, {"status": 0, "error": "token missing"}), 2)
    assert refused.verdict == "rejected" and refused.failed == {
        0: "token missing",
        1: "token missing",
    }
    assert read_answer("track", answer(200, b"0"), 1).verdict == "rejected"


def test_reading_a_partial_failure_keeps_the_reasons():
    body = {
        "code": 400,
        "error": "some data points in the request failed validation",
        "failed_records": [
            {
                "index": 1,
                "$insert_id": "x",
                "field": "properties.time",
                "message": "'properties.time' is invalid",
            }
        ],
        "num_records_imported": 2,
        "status": "Bad Request",
    }
    result = read_answer("import", answer(400, body), 3)
    assert result.verdict == "partial"
    assert result.failed == {1: "properties.time: 'properties.time' is invalid"}


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status):
    assert read_answer("import", answer(status, b"busy"), 5).verdict == "retry"


def test_retry_after_is_read_in_seconds_and_as_a_date():
    result = read_answer("import", answer(429, b"slow down", {"retry-after": "7"}), 1)
    assert result.retry_after == 7.0
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(date, now=now) <= 31
    assert parse_retry_after("soon") is None


def test_413_splits_unless_single():
    assert read_answer("import", answer(413, b"too big"), 4).verdict == "split"
    assert read_answer("import", answer(413, b"too big"), 1).verdict == "rejected"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_client_errors_are_rejected_not_retried(status):
    result = read_answer("import", answer(status, {"error": "Invalid credentials"}), 2)
    assert result.verdict == "rejected"
    assert "Invalid credentials" in result.detail


def test_records_carry_huge_ints_and_join_into_one_json_array():
    records = [dumps({"n": 1}), dumps({"n": 2**70})]
    assert loads(records[1]) == {"n": 2**70}
    assert json.loads(json_array(records)) == [{"n": 1}, {"n": 2**70}]


def test_records_are_sized_to_fit_not_held_in_a_large_buffer():
    record = dumps({"event": "E", "properties": {"token": "t"}})
    assert sys.getsizeof(record) < len(record) + 64
