"""Settling a request: what it held leaves when the response is delivered, or is dropped.

A request's exposures (in its :class:`~mixtrack.exposure.RequestScope`) and the events its
templates tracked wait for the response; :meth:`Settling.commit` sends them once the
response was delivered with a non-error status, :meth:`Settling.discard` drops them (and
frees the exposures' ledger reservations) when it was not. Either happens once.
:class:`~mixtrack.web.RequestTracker` is a :class:`Settling`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mixtrack import context
from mixtrack.errors import ValidationError
from mixtrack.exposure import RequestScope
from mixtrack.web._runtime import WebApp
from mixtrack.web._traffic import Traffic
from mixtrack.web._withheld import HeldEvent

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["Settling"]

logger = logging.getLogger("mixtrack.web")


class Settling:
    """The settling stage of a request's tracker: held events and exposures, sent or dropped.

    The tracker sets ``app``, ``scope`` and ``traffic`` and provides the visitor's
    properties (:meth:`context`, :meth:`extra_properties`, :meth:`sending`).
    """

    app: WebApp
    scope: RequestScope | None
    traffic: Traffic

    def __init__(self) -> None:
        self._held: list[HeldEvent] = []
        self._lock = threading.Lock()
        self._settled = False

    def context(self) -> dict[str, Any]:
        raise NotImplementedError

    def extra_properties(self) -> Mapping[str, Any]:
        raise NotImplementedError

    def sending(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _hold(self, held: HeldEvent) -> None:
        """Hold ``held`` until the response settles; send it now when it already has."""
        with self._lock:
            if not self._settled:
                self._held.append(held)
                return
        self._send_held([held])  # settled already (a late render): send as delivered

    @property
    def settled(self) -> bool:
        """True once :meth:`commit` or :meth:`discard` ran."""
        return self._settled

    def _take(self) -> list[HeldEvent] | None:
        with self._lock:
            if self._settled:
                return None
            self._settled = True
            held, self._held = self._held, []
            return held

    def _send_held(self, held: list[HeldEvent]) -> None:
        with context(**self.context(), **self.extra_properties()):
            for item in held:
                try:
                    self.app.client.track(
                        item.distinct_id, item.event, item.properties, time=item.time
                    )
                except ValidationError as exc:
                    logger.warning("%s: event %r left out: %s", item.source, item.event, exc)

    def commit(self) -> int:
        """The response was delivered: send the held exposures and events. Once.

        Returns how many events were handed to the client.
        """
        held = self._take()
        if held is None:
            return 0
        self._before_commit()
        sent = 0
        if self.scope is not None:
            if self.scope.exposures:
                with self.sending():
                    sent = self.scope.commit()
            else:  # nothing to send: leave the visitor's id (and cookie) alone
                self.scope.commit()
        if held:
            self._send_held(held)
        return sent + len(held)

    def _before_commit(self) -> None:
        """What the tracker does as the response is delivered, before anything is sent."""

    def discard(self) -> int:
        """The response failed or was an error: drop what was held. Once.

        The exposures' ledger reservations are released, so the next page that renders
        exposes again. Returns how many were dropped.
        """
        held = self._take()
        if held is None:
            return 0
        dropped = self.scope.discard() if self.scope is not None else 0
        return dropped + len(held)

    def settle(self, delivered: bool) -> int:
        """:meth:`commit` when ``delivered``, else :meth:`discard`."""
        return self.commit() if delivered else self.discard()
