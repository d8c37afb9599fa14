"""Delivery through the transport boundary: retries, splits, partial failures, overflow."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter

import httpx
import pytest
import responses

import mixtrack
from mixtrack.transport import HttpxTransport, RequestsTransport


def decode(request: httpx.Request) -> list[dict]:
    body = request.content
    if request.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


def ok(request: httpx.Request, n: int) -> httpx.Response:
    return httpx.Response(200, json={"code": 200, "num_records_imported": n, "status": "OK"})


class Script:
    """An httpx.MockTransport handler that answers from a list, then accepts everything."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.lock = threading.Lock()
        self.accepted: list[dict] = []
        self.calls: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        batch = decode(request)
        with self.lock:
            self.calls.append(time.monotonic())
            answer = self.answers.pop(0) if self.answers else None
        if callable(answer):
            answer = answer(request, batch)
        if isinstance(answer, Exception):
            raise answer
        if answer is None:
            with self.lock:
                self.accepted.extend(batch)
            return ok(request, len(batch))
        return answer


def client_for(script, **options) -> mixtrack.Client:
    transport = HttpxTransport(client=httpx.Client(transport=httpx.MockTransport(script)))
    options.setdefault("flush_interval", 0.02)
    options.setdefault("max_backoff", 0.05)
    return mixtrack.Client("tok", api_host="http://collector.test", transport=transport, **options)


def assert_books_balance(stats: mixtrack.Stats) -> None:
    assert stats.enqueued == stats.sent + stats.rejected + stats.dropped + stats.pending


def test_batches_respect_batch_size():
    script = Script()
    # no timer-cut partial batches (a loaded machine may pause the loop): the count is exact
    with client_for(script, batch_size=100, flush_interval=30) as client:
        for i in range(1050):
            client.track("u", "E", {"i": i})
        assert client.flush(5)
        stats = client.stats()
    assert sorted(e["properties"]["i"] for e in script.accepted) == list(range(1050))
    assert stats.requests == 11
    assert stats.sent == 1050 and stats.pending == 0


def test_503_then_429_with_retry_after_then_success_delivers_once():
    script = Script(
        httpx.Response(503, text="down"),
        httpx.Response(429, text="Project exceeded rate limits", headers={"Retry-After": "0.2"}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    )
    # one batch of ten, however slow the machine: no flush tick while tracking
    with client_for(script, max_in_flight=1, flush_interval=5.0) as client:
        for i in range(10):
            client.track("u", "E", {"i": i})
        assert client.flush(10)
        stats = client.stats()
    assert Counter(e["properties"]["i"] for e in script.accepted) == Counter(range(10))
    assert stats.retries == 4 and stats.requests == 5 and stats.sent == 10
    assert script.calls[2] - script.calls[1] >= 0.2  # Retry-After honoured
    assert "ReadTimeout" in stats.last_error or "timeout" in stats.last_error.lower()
    assert_books_balance(stats)


def test_retry_budget_exhausted_drops_and_reports():
    dropped = []
    script = Script(*[httpx.Response(500, text="boom")] * 3)
    with client_for(
        script, max_attempts=3, on_drop=lambda r, m, why: dropped.append((r, why))
    ) as client:
        client.track("u", "Lost")
        result = client.flush(5)
        stats = client.stats()
    assert not result and (result.sent, result.dropped, result.pending) == (0, 1, 0)
    assert stats.dropped == 1 and stats.sent == 0 and stats.retries == 2
    assert "gave up on 1 messages to /import after 3 attempts" in stats.last_error
    assert dropped and dropped[0][0] == "import" and "after 3 attempts" in dropped[0][1]


def test_413_splits_the_batch_until_it_fits():
    def too_big(request, batch):
        return httpx.Response(413, text="request exceeds max limit") if len(batch) > 3 else None

    script = Script(*[too_big] * 20)
    with client_for(script, max_in_flight=1) as client:
        for i in range(10):
            client.track("u", "E", {"i": i})
        assert client.flush(5)
        stats = client.stats()
    assert sorted(e["properties"]["i"] for e in script.accepted) == list(range(10))
    assert stats.sent == 10 and stats.rejected == 0


def test_partial_400_keeps_good_records_and_rejects_the_rest():
    def partial(request, batch):
        return httpx.Response(
            400,
            json={
                "code": 400,
                "error": "some data points in the request failed validation",
                "failed_records": [
                    {
                        "index": 2,
                        "$insert_id": batch[2]["properties"]["$insert_id"],
                        "field": "properties.time",
                        "message": "'properties.time' is invalid",
                    }
                ],
                "num_records_imported": len(batch) - 1,
                "status": "Bad Request",
            },
        )

    script = Script(partial)
    with client_for(script) as client:
        for i in range(5):
            client.track("u", "E", {"i": i})
        result = client.flush(5)
        stats = client.stats()
    assert not result and (result.sent, result.rejected, result.dropped) == (4, 1, 0)
    assert stats.sent == 4 and stats.rejected == 1 and stats.requests == 1
    assert "1 of 5 refused" in stats.last_error


def test_401_rejects_without_retry():
    script = Script(httpx.Response(401, json={"error": "Invalid credentials", "status": 0}))
    with client_for(script) as client:
        client.track("u", "E")
        result = client.flush(5)
        stats = client.stats()
    assert not result and (result.sent, result.rejected) == (0, 1)
    assert stats.rejected == 1 and stats.requests == 1 and stats.retries == 0
    assert "Invalid credentials" in stats.last_error


def test_unknown_transport_exception_does_not_kill_the_worker():
    script = Script(RuntimeError("bug in a custom stack"))
    with client_for(script) as client:
        client.track("u", "First")
        first = client.flush(5)
        client.track("u", "Second")
        second = client.flush(5)
        stats = client.stats()
    # each result covers its own window: the drop is the first one's only
    assert not first and (first.sent, first.dropped) == (0, 1)
    assert second and (second.sent, second.dropped) == (1, 0)
    assert stats.dropped == 1 and stats.sent == 1
    assert [e["event"] for e in script.accepted] == ["Second"]


def hanging(gate: threading.Event):
    def handler(request: httpx.Request) -> httpx.Response:
        gate.wait(10)
        return ok(request, len(decode(request)))

    return handler


@pytest.mark.parametrize("policy", ["drop_newest", "drop_oldest"])
def test_overflow_policies_keep_the_queue_bounded(policy):
    gate = threading.Event()
    dropped = []
    client = client_for(
        hanging(gate),
        max_queue_events=50,
        batch_size=10,
        max_in_flight=1,
        overflow=policy,
        on_drop=lambda r, m, why: dropped.append(m),
    )
    for i in range(200):
        client.track("u", "E", {"i": i})
    stats = client.stats()
    assert stats.pending <= 50
    assert stats.dropped == len(dropped) == 150
    dropped_i = [m["properties"]["i"] for m in dropped]
    if policy == "drop_newest":
        assert dropped_i == list(range(50, 200))
    else:
        # the oldest queued ones go; what is in flight (at most one batch) is kept
        assert dropped_i == sorted(dropped_i) and max(dropped_i) < 160
    assert_books_balance(stats)
    gate.set()
    result = client.shutdown(5)
    assert not result and result.dropped == 150 and result.sent == 50 and result.pending == 0


def test_byte_bound_applies():
    gate = threading.Event()
    client = client_for(hanging(gate), max_queue_bytes=20_000, batch_size=5, max_in_flight=1)
    for _ in range(100):
        client.track("u", "E", {"blob": "x" * 200})
    stats = client.stats()
    assert 0 < stats.pending < 100 and stats.dropped == 100 - stats.pending
    gate.set()
    client.shutdown(5)


def test_block_policy_waits_for_room():
    gate = threading.Event()
    client = client_for(
        hanging(gate),
        max_queue_events=5,
        batch_size=5,
        max_in_flight=1,
        overflow="block",
        block_timeout=5,
    )
    for _ in range(5):
        client.track("u", "E")
    threading.Timer(0.2, gate.set).start()
    client.track("u", "Waited")  # blocks until the first batch settles
    assert client.flush(5)
    assert client.stats().sent == 6 and client.stats().dropped == 0
    client.shutdown(5)


def test_flush_times_out_on_a_hung_collector_and_shutdown_keeps_its_deadline():
    gate = threading.Event()
    client = client_for(hanging(gate))
    for _ in range(20):
        client.track("u", "E")
    timed_out = client.flush(0.2)
    assert not timed_out and timed_out.pending == 20 and timed_out.sent == 0
    started = time.monotonic()
    closed = client.shutdown(0.5)
    assert not closed and closed.dropped == 20 and closed.pending == 0
    assert time.monotonic() - started < 0.9
    stats = client.stats()
    assert stats.dropped == 20 and stats.pending == 0
    assert_books_balance(stats)
    client.track("u", "After shutdown")
    assert client.stats().dropped == 21
    gate.set()


def test_track_after_a_failure_keeps_working_and_shutdown_is_idempotent():
    script = Script(httpx.Response(500), None)
    client = client_for(script)
    client.track("u", "E")
    result = client.shutdown(5)
    assert result and result.sent == 1 and result.rejected == result.dropped == 0
    assert client.shutdown(5) is result
    assert client.stats().sent == 1


@responses.activate
def test_requests_transport_sends_the_same_request():
    responses.post(
        "http://collector.test/import",
        json={"code": 200, "num_records_imported": 2, "status": "OK"},
    )
    responses.post("http://collector.test/engage", json={"status": 1, "error": None})
    with mixtrack.Client(
        "tok", api_host="http://collector.test", transport=RequestsTransport(), flush_interval=0.02
    ) as client:
        client.track("u", "A")
        client.track("u", "B")
        client.people_set("u", {"a": 1})
        assert client.flush(5)
        assert client.stats().sent == 3
    # the flush interval may fall between the two calls: one request or two, in order
    imports = [c.request for c in responses.calls if "/import" in c.request.url]
    events = [e for r in imports for e in json.loads(gzip.decompress(r.body))]
    assert [e["event"] for e in events] == ["A", "B"]
    assert all(r.headers["Content-Encoding"] == "gzip" for r in imports)


@responses.activate
def test_requests_transport_connection_errors_are_retried():
    import requests

    responses.post("http://collector.test/import", body=requests.ConnectionError("refused"))
    responses.post(
        "http://collector.test/import",
        json={"code": 200, "num_records_imported": 1, "status": "OK"},
    )
    with mixtrack.Client(
        "tok",
        api_host="http://collector.test",
        transport=RequestsTransport(),
        flush_interval=0.02,
        max_backoff=0.05,
    ) as client:
        client.track("u", "A")
        assert client.flush(5)
        stats = client.stats()
    assert stats.sent == 1 and stats.retries == 1 and "refused" in stats.last_error


def test_track_from_many_threads_keeps_the_books():
    script = Script()
    with client_for(script, batch_size=200) as client:

        def work(n):
            for i in range(2000):
                client.track(f"t{n}", "E", {"i": i})

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert client.flush(10)
        stats = client.stats()
    assert stats.sent == 16_000 and stats.enqueued == 16_000
    assert len({e["properties"]["$insert_id"] for e in script.accepted}) == 16_000
