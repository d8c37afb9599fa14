"""Malformed, huge, truncated and mis-encoded requests into a real collector: each gets a clear
answer (never a 5xx, never a hang, an error body that says something), the server keeps
running, and a good request sent right after each bad one is stored."""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import json
import socket
import time
import uuid
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixtrack.testing import Collector

ENDPOINTS = ["/track", "/track/", "/import", "/engage", "/engage/", "/groups", "/import/"]
TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def collector():
    with Collector() as running:
        yield running


def port_of(collector: Collector) -> int:
    return int(collector.url.rsplit(":", 1)[1])


def raw(collector: Collector, method: str, target: str, headers: dict[str, str], body: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", port_of(collector), timeout=15)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def good_request_is_stored(collector: Collector) -> None:
    marker = uuid.uuid4().hex
    properties = {"token": TOKEN, "distinct_id": marker, "time": time.time()}
    event = {"event": "Good", "properties": properties}
    status, body = raw(
        collector,
        "POST",
        "/track",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"data=" + base64.b64encode(json.dumps(event).encode()).replace(b"+", b"%2B"),
    )
    assert status == 200 and body.strip() == b"1", (status, body)
    assert len(collector.events("Good", marker)) == 1


def check_answer(status: int, body: bytes) -> None:
    assert 200 <= status < 500, f"HTTP {status}: {body[:300]!r}"
    if status >= 400 and status != 405:
        assert body.strip(), f"HTTP {status} without a word of explanation"


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
records = st.one_of(
    json_values,
    st.lists(
        st.fixed_dictionaries(
            {"event": st.one_of(st.text(max_size=10), st.integers(), st.none())},
            optional={"properties": st.dictionaries(st.text(max_size=12), json_values)},
        ),
        max_size=3,
    ),
)


@st.composite
def bodies(draw: Any) -> tuple[bytes, dict[str, str]]:
    headers: dict[str, str] = {}
    kind = draw(st.sampled_from(["json", "form", "form-b64", "bytes", "utf16", "latin1"]))
    doc = json.dumps(draw(records)).encode()
    if kind == "json":
        body = doc
        headers["Content-Type"] = "application/json"
    elif kind == "form":
        body = b"data=" + doc
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif kind == "form-b64":
        body = b"data=" + base64.b64encode(doc)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif kind == "utf16":
        body = doc.decode().encode("utf-16")
        headers["Content-Type"] = "application/json; charset=utf-16"
    elif kind == "latin1":
        body = doc.replace(b'"', b'"\xe9', 1)
        headers["Content-Type"] = draw(st.sampled_from(["application/json", "text/plain"]))
    else:
        body = draw(st.binary(max_size=300))
        # any printable ASCII: a client cannot put control characters in a header at all
        headers["Content-Type"] = draw(
            st.text(max_size=20).map(lambda t: "".join(c for c in t if " " <= c <= "~") or "x/y")
        )
    if draw(st.booleans()):
        body = gzip.compress(body)
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "GZIP", "deflate", "br"]))
    if draw(st.booleans()) and body:
        body = body[: draw(st.integers(0, len(body) - 1))]  # truncated
    return body, headers


queries = st.one_of(
    st.just(""),
    st.lists(
        st.tuples(
            st.sampled_from(["data", "verbose", "strict", "ip", "project_id", "x", "%zz"]),
            st.text(max_size=12).map(lambda t: t.encode("utf-8").hex()[:16]),
        ),
        max_size=3,
    ).map(lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs)),
)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "OPTIONS", "DELETE"]),
    path=st.one_of(st.sampled_from(ENDPOINTS), st.text(max_size=15).map(
        lambda t: "/" + t.encode("utf-8").hex()[:20])),
    query=queries,
    payload=bodies(),
    auth=st.one_of(st.none(), st.text(max_size=20)),
)
def test_bad_requests_get_clear_answers_and_lose_nothing(
    collector, method, path, query, payload, auth
):
    body, headers = payload
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    status, answer = raw(collector, method, path + query, headers, body)
    check_answer(status, answer)
    good_request_is_stored(collector)


def test_huge_body_is_refused_clearly(collector):
    events = [{"event": "Big", "properties": {"token": TOKEN, "blob": "x" * 1000}}] * 12_000
    status, answer = raw(
        collector, "POST", "/import", {"Content-Type": "application/json"},
        json.dumps(events).encode(),
    )
    check_answer(status, answer)
    assert status in (400, 413), (status, answer[:200])
    good_request_is_stored(collector)


def test_gzip_bomb_is_refused_without_inflating_it(collector):
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    bomb = b"".join(packer.compress(chunk) for _ in range(256)) + packer.flush()  # 256 MiB
    assert len(bomb) < 1 << 20
    status, answer = raw(
        collector, "POST", "/import",
        {"Content-Type": "application/json", "Content-Encoding": "gzip"}, bomb,
    )
    check_answer(status, answer)
    assert status in (400, 413), (status, answer[:200])
    good_request_is_stored(collector)


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b"POST /track HTTP/1.1\r\nContent-Length: 5000\r\n\r\ndata=", id="short-body"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40, id="tls-hello"),
        pytest.param(b"GARBAGE\r\n\r\n", id="garbage-line"),
        pytest.param(b"POST /track HTTP/1.1\r\nContent-Length: -1\r\n\r\n", id="negative-length"),
        pytest.param(
            b"POST /track HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk"
        ),
        pytest.param(b"POST /track HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n", id="many-headers"),
    ],
)
def test_broken_http_on_the_wire_does_not_stop_the_collector(collector, wire):
    with socket.create_connection(("127.0.0.1", port_of(collector)), timeout=5) as sock:
        sock.sendall(wire)
        # the client gives up half-way; the server may have answered and closed already
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        try:
            first = sock.recv(200)
        except (ConnectionResetError, TimeoutError):
            first = b""
    if first.startswith(b"HTTP/"):  # (an HTTP/0.9-style request gets a bare error page)
        assert 400 <= int(first.split(b" ", 2)[1]) < 500, first
    good_request_is_stored(collector)
