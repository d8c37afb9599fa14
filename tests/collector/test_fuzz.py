"""Hypothesis against every endpoint, body form, encoding and content type.

For any input: no 5xx, and whatever is answered 200 comes back equal in value. Bounded:
a few hundred examples per test, no deadline (the machine is shared).
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixtrack.testing._collector import Collector

FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PATHS = ["/track", "/track/", "/engage", "/groups", "/import", "/import/"]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "application/x-ndjson",
    "text/plain",
    "",
    "multipart/form-data; boundary=x",
]

numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[Collector, httpx.Client]]:
    with (
        Collector() as collector,
        httpx.Client(base_url=collector.url, trust_env=False, timeout=30) as http,
    ):
        yield collector, http


@st.composite
def events(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=4))
    found = []
    for i in range(count):
        properties = draw(st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=4))
        properties.update(
            token="tok",
            distinct_id=draw(st.one_of(st.text(max_size=10), st.integers())),
            time=int(time.time()) - 60,
        )
        properties["$insert_id"] = f"fuzz-{draw(st.uuids()).hex[:20]}-{i}"
        found.append({"event": draw(st.text(min_size=1, max_size=10)), "properties": properties})
    return found


def _encode(records: Any, form: str, gzipped: bool) -> tuple[bytes, dict[str, str], str]:
    text = json.dumps(records)  # NaN and Infinity written as Python writes them
    headers: dict[str, str] = {}
    query = ""
    if form == "json":
        body = text.encode()
        headers["Content-Type"] = "application/json"
    elif form == "ndjson":
        body = "\n".join(json.dumps(r) for r in records).encode()
        headers["Content-Type"] = "application/x-ndjson"
    elif form == "form-json":
        body = ("data=" + quote(text)).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif form == "form-base64":
        body = b"data=" + base64.b64encode(text.encode())
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:  # GET ?data=
        body = b""
        query = "data=" + quote(base64.b64encode(text.encode()).decode())
    if gzipped and body:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return body, headers, query


def _same(sent: Any, stored: Any) -> bool:
    """Equal in value, floats included (a stored float is the float that was sent)."""
    if isinstance(sent, float) and isinstance(stored, (int, float)):
        return math.isfinite(sent) and sent == stored
    if isinstance(sent, dict) and isinstance(stored, dict):
        return sent.keys() == stored.keys() and all(_same(sent[k], stored[k]) for k in sent)
    if isinstance(sent, list) and isinstance(stored, list):
        return len(sent) == len(stored) and all(map(_same, sent, stored))
    return type(sent) is type(stored) and sent == stored


@FUZZ
@given(
    records=events(),
    endpoint=st.sampled_from(["/import", "/track"]),
    form=st.sampled_from(["json", "ndjson", "form-json", "form-base64", "get"]),
    gzipped=st.booleans(),
)
def test_events_any_content_no_5xx_and_what_is_accepted_round_trips(
    fuzzed: tuple[Collector, httpx.Client],
    records: list[dict[str, Any]],
    endpoint: str,
    form: str,
    gzipped: bool,
) -> None:
    collector, http = fuzzed
    collector.reset()
    body, headers, query = _encode(records, form, gzipped)
    method = "GET" if form == "get" else "POST"
    answer = http.request(method, f"{endpoint}?{query}", content=body, headers=headers)
    assert answer.status_code < 500, answer.text
    stored = collector.events()
    if answer.status_code == 200 and answer.text != "0":
        kept = stored if endpoint == "/import" or len(stored) == len(records) else None
        if kept is not None:
            assert len(kept) == len(records)
            for sent, back in zip(records, kept, strict=True):
                assert _same(sent["properties"], back["properties"]), (sent, back)
    assert len(stored) <= len(records)
    if answer.status_code == 400 and answer.headers["content-type"] == "application/json":
        doc = answer.json()
        if "failed_records" in doc:
            assert doc["num_records_imported"] == len(stored)


@FUZZ
@given(
    path=st.sampled_from([*PATHS, "/_mixtrack/events", "/_mixtrack/faults", "/", "/nowhere"]),
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "OPTIONS"]),
    content_type=st.sampled_from(CONTENT_TYPES),
    encoding=st.sampled_from(["", "gzip", "deflate"]),
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.just(b"\x1f\x8b\x08\x00garbage"),
        st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(4000, 5000).map(lambda n: b'[{"x": ' + b"9" * n + b"}]"),
    ),
    query=st.dictionaries(
        st.sampled_from(["data", "verbose", "offset", "after", "limit", "since", "ip", "strict"]),
        st.one_of(st.text(max_size=30), st.integers().map(str), st.just(str(2**64))),
        max_size=3,
    ),
)
def test_any_bytes_anywhere_get_a_4xx_or_a_2xx(
    fuzzed: tuple[Collector, httpx.Client],
    path: str,
    method: str,
    content_type: str,
    encoding: str,
    body: bytes,
    query: dict[str, str],
) -> None:
    collector, http = fuzzed
    headers = {"Content-Type": content_type, "X-Mixtrack-Control": "1"}
    if encoding:
        headers["Content-Encoding"] = encoding
    answer = http.request(method, path, params=query, content=body, headers=headers)
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    collector.app.faults.clear()  # a fuzzed fault must not leak into the next example
