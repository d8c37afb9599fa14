"""The sender: delivering one batch, as a state machine without I/O (in the manner of h11).

A :class:`Sender` is asked for its next event and does what the event says it needs:

- :class:`Send`: put ``request`` on the wire, then feed the answer back with
  :meth:`Sender.receive`, or the transport's failure with :meth:`Sender.fail`;
- :class:`Wait`: sleep up to ``seconds`` (less is fine: waking early only asks again);
- :class:`Settled` and :class:`Retrying`: book them (:class:`Outcomes` does, for the clients);
- :data:`DONE`: every record of the batch has settled.

The thread worker, the asyncio worker and the importer drive the same sender, so encoding,
retries, the circuit, 413 splits and the books are written once.

>>> records = Records.of([b'{"event":"E","properties":{"token":"t"}}'])  # doctest: +SKIP
>>> sender = Sender(config, "import", records, Circuit(Backoff.of(config)))  # doctest: +SKIP
>>> send = sender.next_event()  # Send(request, 0, 1): put it on the wire  # doctest: +SKIP
>>> sender.receive(transport.send(send.request))  # doctest: +SKIP
>>> sender.next_event()  # doctest: +SKIP
Settled(start=0, stop=1, fate='sent', ...)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal

import attrs

from mixtrack._config import Config
from mixtrack._delivery.circuit import Circuit, Deadline
from mixtrack._delivery.records import Answer, Records, encode_request, read_answer
from mixtrack.protocol.routes import Route
from mixtrack.transport import Request, Response

__all__ = ["DONE", "Done", "Retrying", "Send", "Sender", "Settled", "Wait"]

log = logging.getLogger("mixtrack")

#: Time kept for the last attempt before a flush or shutdown deadline: a quarter of the
#: budget, at least half a second (and never more than ``request_timeout``).
LAST_ATTEMPT = 0.5
LAST_ATTEMPT_SHARE = 0.25


@attrs.frozen
class Send:
    """Send ``request``: it carries records ``start:stop`` of the batch."""

    request: Request
    start: int
    stop: int


@attrs.frozen
class Wait:
    """Nothing to do for ``seconds`` (or until the circuit's listeners are called)."""

    seconds: float


Fate = Literal["sent", "refused", "dropped"]


@attrs.frozen
class Settled:
    """Records ``start:stop`` settled: all ``sent``; ``refused`` (``rejected`` of them,
    the rest sent); or ``dropped`` for ``cause``. ``detail`` says why, for humans."""

    start: int
    stop: int
    fate: Fate
    rejected: int = 0
    cause: str = ""
    detail: str = ""
    answer: Answer | None = None

    @property
    def count(self) -> int:
        return self.stop - self.start


@attrs.frozen
class Retrying:
    """An attempt failed and will be made again after ``wait`` seconds."""

    detail: str
    wait: float


class Done:
    """Every record of the batch has settled."""

    def __repr__(self) -> str:
        return "DONE"


DONE = Done()
Event = Send | Wait | Settled | Retrying | Done


class Sender:
    """Delivers ``records`` (serialized messages) to ``route``; see the module docstring."""

    def __init__(
        self,
        config: Config,
        route: Route,
        records: Records,
        circuit: Circuit,
        *,
        deadline: Deadline | None = None,
        parts: Sequence[tuple[int, int]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.route = route
        self.records = records
        self.circuit = circuit
        #: the client's flush or shutdown deadline (none for the importer: it waits on
        #: the retry budget alone)
        self.deadline = deadline if deadline is not None else Deadline()
        self._clock = clock
        self._parts: list[tuple[int, int]] = list(parts or [(0, len(records))])
        self._events: list[Event] = []
        self._requests: dict[tuple[int, int], Request] = {}
        self._awaiting: tuple[int, int] | None = None
        self._probe = False
        self._started: float | None = None
        self._attempts = 0
        self._not_before = 0.0
        self._last_call = False
        self._last_call_for: float | None = None
        self._last_error = ""

    # -- what the driver asks ------------------------------------------------------------

    def next_event(self) -> Event:
        if self._events:
            return self._events.pop(0)
        if self._awaiting is not None:
            raise RuntimeError("the sender waits for receive() or fail() first")
        if not self._parts:
            return DONE
        now = self._clock()
        if self._started is None:
            self._started = now
        part = self._parts[0]
        if self._out_of_budget(now):
            return self._give_up(part, "retry budget", self._exhausted(part))
        wait = self._wait(now)
        if wait > 0:
            return Wait(wait)
        self._last_call = False
        self._attempts += 1
        self._awaiting = part
        return Send(self._request(part, now), *part)

    def receive(self, response: Response) -> None:
        """Feeds the collector's answer to the request last sent."""
        part = self._sent()
        start, stop = part
        answer = read_answer(self.route, response, stop - start)
        if answer.verdict == "retry":
            self._failure(answer.detail, answer.retry_after)
            return
        self.circuit.answered(probe=self._probe)
        self._probe = False
        self._parts.pop(0)
        self._attempts = 0
        self._not_before = 0.0
        if answer.verdict == "accepted":
            self._events.append(Settled(start, stop, "sent"))
        elif answer.verdict == "split":
            middle = (start + stop) // 2
            self._parts[:0] = [(start, middle), (middle, stop)]
        else:
            failed = len(answer.failed) if answer.verdict == "partial" else stop - start
            self._events.append(
                Settled(
                    start, stop, "refused", rejected=failed, detail=answer.detail, answer=answer
                )
            )

    def fail(self, error: BaseException) -> None:
        """Feeds a transport failure (no answer came back) for the request last sent."""
        self._sent()
        self._failure(str(error), None)

    def abandon(self) -> None:
        """The driver stops (shutdown deadline, loop closed): lets the probe go to another."""
        self.circuit.release(probe=self._probe)
        self._probe = False

    def encoding_cost(self) -> int:
        """Bytes the next :class:`Send` has to join and compress (0: ready, or none)."""
        if self._events or self._awaiting is not None or not self._parts:
            return 0
        part = self._parts[0]
        if part in self._requests:
            return 0
        return self.records.size(*part)

    @property
    def pending_parts(self) -> list[tuple[int, int]]:
        """The record ranges not settled yet (for handing a batch back)."""
        return list(self._parts)

    # -- inside ------------------------------------------------------------------------

    def _sent(self) -> tuple[int, int]:
        if self._awaiting is None:
            raise RuntimeError("nothing was sent")
        part, self._awaiting = self._awaiting, None
        return part

    def _failure(self, detail: str, retry_after: float | None) -> None:
        now = self._clock()
        self._last_error = detail
        if retry_after is not None:
            # never wait past the retry budget: a Retry-After of an hour (or 1e308) would
            # keep the batch pending that long, and overflow a timer
            spent = now - (self._started if self._started is not None else now)
            retry_after = min(retry_after, max(self.config.max_elapsed - spent, 0.0))
        wait = self.circuit.failed(now, retry_after, probe=self._probe)
        self._probe = False
        if retry_after is not None:
            wait = max(wait, retry_after)
        self._not_before = now + wait
        if self._out_of_budget(now):
            return  # the next event gives up on it
        self._events.append(Retrying(detail, wait))
        log.info(
            "attempt %d to /%s failed (%s); retrying in %.2fs",
            self._attempts,
            self.route,
            detail,
            wait,
        )

    def _out_of_budget(self, now: float) -> bool:
        if not self._attempts:
            return False
        limit = self.config.max_attempts
        if limit is not None and self._attempts >= limit:
            return True
        assert self._started is not None
        return now - self._started >= self.config.max_elapsed

    def _wait(self, now: float) -> float:
        """Seconds until this batch may attempt (0: now), the deadline and circuit included."""
        if self._last_call:
            return 0.0
        circuit, deadline = self.circuit, self.deadline
        until = deadline.until
        if until is not None and until <= now:
            deadline.relax(now)
            until = deadline.until
            if until is not None:  # shutdown: the deadline passed; the driver is told to stop
                return max(self.config.flush_interval, 0.05)
        # while the collector is down, the circuit schedules the attempts (its probe time is
        # never earlier than this batch's own backoff, unless a flush brought it forward)
        wait = 0.0 if circuit.down else max(self._not_before - now, 0.0)
        if not wait:
            admitted, wait = circuit.admit(now)
            if admitted:
                self._probe = circuit.down
                return 0.0
        if until is not None:
            # cut the wait so that one last attempt happens before the deadline
            reserve = max(LAST_ATTEMPT, LAST_ATTEMPT_SHARE * deadline.budget)
            latest = until - min(reserve, self.config.request_timeout)
            if wait == 0.0 or now + wait > latest:
                if now < latest:
                    return latest - now
                if self._last_call_for != until:
                    self._last_call_for = until
                    self._last_call = True  # past the circuit: every batch tries once more
                    return 0.0
                return max(until - now, 0.01)
        return wait if wait > 0 else max(self.config.flush_interval, 0.05)

    def _request(self, part: tuple[int, int], now: float) -> Request:
        request = self._requests.get(part)
        if request is None:
            start, stop = part
            body = self.records.body(start, stop)
            request = encode_request(self.config, self.route, body)
            self._requests = {part: request}  # kept for its retries; a split makes new ones
        until = self.deadline.until
        if self.deadline.final and until is not None and now < until < now + request.timeout:
            # never let one attempt outlast shutdown's deadline (a flush's deadline only
            # stops the caller waiting: cutting the request short would only send it twice)
            request = attrs.evolve(request, timeout=max(until - now, 0.05))
        return request

    def _exhausted(self, part: tuple[int, int]) -> str:
        count = part[1] - part[0]
        return (
            f"gave up on {count} messages to /{self.route} after {self._attempts} attempts "
            f"in {self._clock() - (self._started or 0.0):.1f}s: {self._last_error}"
        )

    def _give_up(self, part: tuple[int, int], cause: str, detail: str) -> Settled:
        self._parts.pop(0)
        self._attempts = 0
        self._not_before = 0.0
        self._started = self._clock()  # the next part gets a budget of its own
        self.abandon()
        return Settled(part[0], part[1], "dropped", cause=cause, detail=detail)
