"""``RequestScope``: hold a request's exposures until the response is known to be delivered."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from types import TracebackType

import attrs

from mixtrack.exposure._exposure import Exposure
from mixtrack.exposure._variant import Variant

__all__ = ["RequestScope"]

logger = logging.getLogger("mixtrack.exposure")


@attrs.frozen
class Held:
    """An exposure waiting for its request, with the ledger reservation to release."""

    exposure: Exposure
    key: str
    record: str
    also: tuple[str, ...] = ()  # the same record under the person's other ids


class RequestScope:
    """Exposures made inside are held; :meth:`commit` sends them, :meth:`discard` drops them.

    Created by :meth:`Experiments.request_scope`. While the ``with`` block runs (and in
    asyncio tasks started from it, which copy the context), every ``expose()`` of that
    ``Experiments`` reserves the exposure in the ledger and holds the event here.

    Leaving the block without :meth:`commit` discards: the framework decides when a
    response counts as shown (delivered, non-error status) and commits; an exception or a
    5xx simply leaves. Discarding releases the ledger reservations, so the next successful
    render exposes again. After commit or discard, further exposures in the block are sent
    at once.

    >>> with experiments.request_scope() as scope:  # doctest: +SKIP
    ...     html = render(request)          # templates call variant.expose()
    ...     if response_ok(html):
    ...         scope.commit()
    """

    def __init__(
        self,
        var: ContextVar[RequestScope | None],
        send: Callable[[Held], bool],
        release: Callable[[Held], None],
    ) -> None:
        self._var = var
        self._send = send
        self._release = release
        self._held: list[Held] = []
        self._on_commit: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._state = "open"
        self._token: Token[RequestScope | None] | None = None
        self._withholding = False
        self._deferring = False
        self._kept: list[Variant] = []

    def withhold(self, *, keep: bool = False) -> None:
        """Expose nothing in this scope: the request is not a person looking at the page.

        Exposures made inside then touch neither the ledger nor the client (a crawler, an
        opted-out visitor). With ``keep``, the variants are kept in :attr:`kept` (a page
        loaded in the background, exposed later if it is shown).
        """
        with self._lock:
            self._withholding = True
            self._deferring = keep

    @property
    def withholding(self) -> bool:
        """True after :meth:`withhold`."""
        return self._withholding

    def keep(self, variant: Variant) -> None:
        """Remember a withheld variant, when :meth:`withhold` asked to keep them."""
        with self._lock:
            if self._deferring and all(
                kept.experiment != variant.experiment for kept in self._kept
            ):
                self._kept.append(variant)

    @property
    def kept(self) -> tuple[Variant, ...]:
        """The variants withheld with ``keep``, one per experiment, first shown first."""
        with self._lock:
            return tuple(self._kept)

    @property
    def exposures(self) -> tuple[Exposure, ...]:
        """Exposures held so far, in the order they were made."""
        with self._lock:
            return tuple(held.exposure for held in self._held)

    @property
    def settled(self) -> bool:
        """True once :meth:`commit` or :meth:`discard` ran."""
        return self._state != "open"

    def hold(self, held: Held) -> bool:
        """Keep ``held`` for this request; False if the scope is already settled."""
        with self._lock:
            if self._state != "open":
                return False
            self._held.append(held)
            return True

    def on_commit(self, callback: Callable[[], object]) -> bool:
        """Run ``callback`` when the scope commits, never when it discards.

        For what must follow a delivered response as the exposures do (the render record
        of a variant exposed when visible). False if the scope is already settled.
        """
        with self._lock:
            if self._state != "open":
                return False
            self._on_commit.append(callback)
            return True

    def _take(self, state: str) -> list[Held]:
        with self._lock:
            if self._state != "open":
                return []
            self._state = state
            held, self._held = self._held, []
            return held

    def commit(self) -> int:
        """Send the held exposures; returns how many were handed to the client."""
        sent = sum(1 for held in self._take("committed") if self._send(held))
        with self._lock:
            callbacks, self._on_commit = self._on_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # bookkeeping after delivery must not fail the response
                logger.exception("a request scope's on_commit callback %r failed", callback)
        return sent

    def discard(self) -> int:
        """Send none of the held exposures and free their ledger reservations."""
        held = self._take("discarded")
        with self._lock:
            self._on_commit.clear()
        for item in held:
            self._release(item)
        return len(held)

    @contextlib.contextmanager
    def bound(self) -> Iterator[RequestScope]:
        """Make this scope the current one for the block, without settling it on exit.

        For responses that outlive the handler: a streamed body is produced after the
        middleware returned, so the framework produces each chunk inside ``bound()`` and
        commits when the stream ends. Re-entrant; each block restores what was current.

        >>> scope = experiments.request_scope()  # doctest: +SKIP
        >>> with scope.bound():  # doctest: +SKIP
        ...     chunk = next(body)
        """
        token = self._var.set(self)
        try:
            yield self
        finally:
            self._var.reset(token)

    def __enter__(self) -> RequestScope:
        if self._token is not None:
            raise RuntimeError("a RequestScope can be entered only once")
        self._token = self._var.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.discard()
        finally:
            if self._token is not None:
                self._var.reset(self._token)

    def __repr__(self) -> str:
        with self._lock:
            return f"<RequestScope {self._state}, {len(self._held)} held>"
