"""The sans-I/O sender, driven by hand with a fake clock: what it asks for, how it reads each
answer, the circuit's single probe, the time budget and the deadlines."""

from __future__ import annotations

import json

import pytest

from mixtrack import Config
from mixtrack._delivery.circuit import Backoff, Circuit
from mixtrack._delivery.records import Records, dumps
from mixtrack._delivery.sender import DONE, Retrying, Send, Sender, Settled, Wait
from mixtrack.errors import TransportError
from mixtrack.protocol import limits
from mixtrack.transport import Response


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def records(n: int) -> Records:
    return Records.of(dumps({"event": "E", "properties": {"token": "t", "i": i}}) for i in range(n))


def ok(n: int = 1) -> Response:
    return Response(200, {}, json.dumps({"code": 200, "num_records_imported": n}).encode())


def failing(status: int = 503, headers: dict[str, str] | None = None) -> Response:
    return Response(status, headers or {}, b"down")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(clock: Clock, n: int = 4, circuit: Circuit | None = None, **options: object) -> Sender:
    config = Config(token="t", api_host="http://collector.test", gzip=False, **options)  # type: ignore[arg-type]
    circuit = circuit or Circuit(Backoff(initial=2.0, cap=60.0, rng=lambda: 1.0))
    return Sender(config, "import", records(n), circuit, clock=clock)


def test_a_batch_is_one_request_whose_body_is_its_records(clock):
    sender = make(clock, 3)
    send = sender.next_event()
    assert isinstance(send, Send) and (send.start, send.stop) == (0, 3)
    assert [m["properties"]["i"] for m in json.loads(send.request.body)] == [0, 1, 2]
    sender.receive(ok(3))
    assert sender.next_event() == Settled(0, 3, "sent")
    assert sender.next_event() is DONE


def test_failures_back_off_as_mixpanel_advises_and_retry_after_wins(clock):
    sender = make(clock)
    waits = []
    for _ in range(7):
        assert isinstance(sender.next_event(), Send)
        sender.fail(TransportError("connection refused"))
        retrying = sender.next_event()
        assert isinstance(retrying, Retrying) and "refused" in retrying.detail
        waits.append(retrying.wait)
        clock.now += retrying.wait
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert isinstance(sender.next_event(), Send)
    sender.receive(failing(429, {"retry-after": "7"}))
    retrying = sender.next_event()
    assert isinstance(retrying, Retrying) and retrying.wait == 7.0
    assert isinstance(sender.next_event(), Wait)  # not before Retry-After
    clock.now += 7.0
    assert isinstance(sender.next_event(), Send)


def test_no_attempt_count_gives_up_only_time_does(clock):
    one_second = Circuit(Backoff(initial=1.0, cap=1.0, rng=lambda: 1.0))
    sender = make(clock, circuit=one_second)
    attempts = 0
    while True:
        event = sender.next_event()
        if isinstance(event, Send):
            attempts += 1
            sender.fail(TransportError("down"))
        elif isinstance(event, (Retrying, Wait)):
            clock.now += event.seconds if isinstance(event, Wait) else 0.0
        else:
            break
    assert isinstance(event, Settled) and event.fate == "dropped"
    assert event.cause == "retry budget" and "attempts in 600" in event.detail
    assert attempts > 500  # ten minutes of one-second waits, never cut at ten attempts


def test_max_attempts_still_caps_when_set(clock):
    sender = make(clock, max_attempts=3)
    for _ in range(3):
        while not isinstance(event := sender.next_event(), Send):
            clock.now += getattr(event, "seconds", 0.0)
        sender.receive(failing(500))
    event = sender.next_event()
    assert (
        isinstance(event, Settled)
        and event.fate == "dropped"
        and "after 3 attempts" in event.detail
    )


def test_a_413_splits_in_halves_until_it_fits(clock):
    sender = make(clock, 8)
    sent = []
    while (event := sender.next_event()) is not DONE:
        if isinstance(event, Send):
            size = event.stop - event.start
            sender.receive(failing(413) if size > 2 else ok(size))
        else:
            assert isinstance(event, Settled) and event.fate == "sent"
            sent.append((event.start, event.stop))
    assert sent == [(0, 2), (2, 4), (4, 6), (6, 8)]


def test_while_the_collector_is_down_one_probe_at_a_time(clock):
    circuit = Circuit(Backoff(initial=2.0, cap=60.0, rng=lambda: 1.0))
    a, b, c = (make(clock, circuit=circuit) for _ in range(3))
    for sender in (a, b):  # both in flight when it went down
        assert isinstance(sender.next_event(), Send)
    a.fail(TransportError("down"))
    b.fail(TransportError("down"))
    assert isinstance(a.next_event(), Retrying) and isinstance(b.next_event(), Retrying)
    assert isinstance(c.next_event(), Wait)  # a new batch waits for the circuit too
    clock.now += 2.0
    probe = a.next_event()
    assert isinstance(probe, Send)
    assert isinstance(b.next_event(), Wait) and isinstance(c.next_event(), Wait)
    a.receive(ok(4))  # the collector is back: everyone goes
    assert isinstance(b.next_event(), Send) and isinstance(c.next_event(), Send)


def test_a_deadline_probes_at_once_then_cuts_the_wait_for_one_last_attempt(clock):
    sender = make(clock)
    assert isinstance(sender.next_event(), Send)
    sender.fail(TransportError("down"))
    sender.next_event()  # Retrying: 2 s
    clock.now += 2.0
    assert isinstance(sender.next_event(), Send)
    sender.fail(TransportError("down"))
    assert sender.next_event() == Retrying("down", 4.0)
    sender.circuit.probe_now(clock.now)
    sender.deadline.hurry(clock.now + 3.0, now=clock.now, final=True)
    # the caller wants delivery now: one probe at once, not 4 s later, so that a collector
    # that is back leaves the whole budget to the backlog
    probe = sender.next_event()
    assert isinstance(probe, Send) and probe.request.timeout == pytest.approx(3.0)
    sender.fail(TransportError("still down"))
    assert sender.next_event() == Retrying("still down", 8.0)
    wait = sender.next_event()
    # a quarter of the budget is kept for the last attempt: 2.25 s from now, not 8 s
    assert isinstance(wait, Wait) and wait.seconds == pytest.approx(2.25)
    clock.now += wait.seconds
    last = sender.next_event()
    assert isinstance(last, Send) and last.request.timeout == pytest.approx(0.75)
    sender.receive(ok(4))
    assert sender.next_event() == Settled(0, 4, "sent")


def test_the_backoff_schedule_is_mixpanels():
    backoff = Backoff(initial=limits.RETRY_INITIAL, cap=limits.RETRY_MAX)
    for failures in range(1, 10):
        ceiling = min(60.0, 2.0 * 2 ** (failures - 1))
        assert ceiling / 2 <= backoff.wait(failures) <= ceiling
