"""``Experiments``: evaluate lazily, expose once, at render time, per person."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import attrs

from mixtrack.errors import ValidationError
from mixtrack.exposure._exposure import Exposure, Record, Tracker, exposure_key, link_key
from mixtrack.exposure._ledger import GuardedLedger, Ledger, LedgerFallback, MemoryLedger
from mixtrack.exposure._scope import Held, RequestScope
from mixtrack.exposure._variant import Variant
from mixtrack.flags import Assignment, FlagProvider

__all__ = ["ExperimentStats", "Experiments"]

logger = logging.getLogger("mixtrack.exposure")


@attrs.frozen
class ExperimentStats:
    """Counters since the :class:`Experiments` was created.

    ``exposed`` events were handed to the client; ``held`` went into a request scope, where
    they were later ``exposed`` (commit) or ``discarded``. ``duplicates`` were already
    exposed (under this id or another id of the same person); ``excluded`` were
    ``expose()`` calls for users not in the experiment; ``withheld`` were made in a request
    that is not a person looking (a crawler, an opt-out, a page loaded in the background:
    see :meth:`RequestScope.withhold`), which touch neither the ledger nor the client.
    ``ledger_errors`` counts backend failures, ``ledger_fallbacks`` the operations served
    by the fallback policy; ``provider_errors`` evaluations that raised (served as "not in
    experiment"); ``send_errors`` exposures the client refused.
    """

    variants: int = 0
    exposed: int = 0
    held: int = 0
    discarded: int = 0
    duplicates: int = 0
    excluded: int = 0
    withheld: int = 0
    provider_errors: int = 0
    send_errors: int = 0
    ledger_errors: int = 0
    ledger_fallbacks: int = 0


def _check_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty str, got {value!r}")
    return value


class Experiments:
    """Variants for users, and their exposures sent once, when really shown.

    ``client`` is a :class:`mixtrack.Client` (or any :class:`Tracker`), ``flags`` a
    :class:`~mixtrack.flags.FlagProvider`, ``ledger`` a :class:`Ledger` (default: a
    :class:`MemoryLedger` for this process; :class:`RedisLedger` for a fleet).

    - ``on_ledger_error``: what to do while the ledger is down (:data:`LedgerFallback`;
      default ``"memory"``); ``ledger_retry_interval``: seconds before trying it again.
    - ``sticky`` (default True): once a person was exposed to a variant, they keep it, even
      if the provider's weights change or they log in and are bucketed under a new id. A
      provider answer of "not in experiment" (experiment stopped, user excluded) still
      wins. Costs one or two ledger reads per :meth:`variant`.
    - ``experiment_type``: ``$experiment_type`` unless the provider's metadata sets it.

    >>> experiments = Experiments(client, StaticFlags({"checkout_redesign": {
    ...     "control": 50, "treatment": 50}}), ledger=MemoryLedger())  # doctest: +SKIP
    >>> variant = experiments.variant("user-42", "checkout_redesign")   # doctest: +SKIP
    >>> variant.expose(), variant.expose()  # doctest: +SKIP
    (True, False)
    """

    def __init__(
        self,
        client: Tracker,
        flags: FlagProvider,
        *,
        ledger: Ledger | None = None,
        on_ledger_error: LedgerFallback = "memory",
        ledger_retry_interval: float = 5.0,
        sticky: bool = True,
        experiment_type: str = "ab_test",
    ) -> None:
        self.client = client
        self.flags = flags
        self.ledger: Ledger = ledger if ledger is not None else MemoryLedger()
        self.sticky = sticky
        self.experiment_type = experiment_type
        self._guard = GuardedLedger(
            self.ledger, on_ledger_error, retry_interval=ledger_retry_interval
        )
        self._scope: ContextVar[RequestScope | None] = ContextVar(
            f"mixtrack_request_scope_{id(self):x}", default=None
        )
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + n

    # -- evaluation ---------------------------------------------------------------------

    def variant(
        self,
        distinct_id: str,
        experiment: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        identities: Sequence[str] = (),
    ) -> Variant:
        """Evaluate ``experiment`` for ``distinct_id``; sends nothing.

        ``attributes`` go to the provider for targeting. ``identities`` are the person's
        other ids (the anonymous ``$device:<id>`` of a logged-in user): the exposure is the
        first only if none of them was exposed, the ledger records them all, and with
        ``sticky`` the variant is the one first shown under any of them. A provider error is logged,
        counted and served as "not in experiment": it never reaches the page.

        >>> pro = {"plan": "pro"}
        >>> experiments.variant("user-42", "checkout_redesign", pro).name  # doctest: +SKIP
        'treatment'
        """
        _check_name("distinct_id", distinct_id)
        _check_name("experiment name", experiment)
        try:
            assignment = self.flags.evaluate(distinct_id, experiment, dict(attributes or {}))
        except Exception:
            logger.exception(
                "flag provider %r failed to evaluate %r for %r; serving 'not in experiment'",
                getattr(self.flags, "name", self.flags),
                experiment,
                distinct_id,
            )
            self._count("provider_errors")
            assignment = Assignment(None, reason="provider error")
        others = tuple(dict.fromkeys(i for i in identities if i and i != distinct_id))
        if self.sticky and assignment.in_experiment:
            recorded = self._recorded(distinct_id, experiment, others)
            if recorded is not None and recorded.variant != assignment.variant:
                assignment = attrs.evolve(
                    assignment, variant=recorded.variant, value=recorded.value, reason="sticky"
                )
        self._count("variants")
        return Variant(experiment, distinct_id, assignment, self._exposer(others))

    def _exposer(self, others: tuple[str, ...]) -> Callable[[Variant], bool]:
        if not others:
            return self._expose
        return functools.partial(self._expose, others=others)

    def shown(
        self,
        distinct_id: str,
        experiment: str,
        variant: str,
        metadata: Mapping[str, Any] | None = None,
        *,
        identities: Sequence[str] = (),
    ) -> Variant:
        """The ``variant`` a page showed ``distinct_id``, ready to :meth:`Variant.expose`.

        For exposures reported after the render (a verified exposure token): the provider
        is asked again, so a user no longer in the experiment is not exposed, but the
        variant named is the one that was on screen. ``metadata`` is added to the
        exposure's properties.

        >>> experiments.shown("user-42", "checkout_redesign", "treatment").expose()
        ... # doctest: +SKIP
        True
        """
        _check_name("variant name", variant)
        current = self.variant(distinct_id, experiment, identities=identities)
        if not current.in_experiment:
            return current
        assignment = attrs.evolve(
            current.assignment,
            variant=variant,
            value=current.value if current.name == variant else None,
            metadata={**current.metadata, **(metadata or {})},
        )
        return Variant(experiment, distinct_id, assignment, current._exposer)

    def _linked(self, distinct_id: str) -> str | None:
        return self._guard.get(link_key(distinct_id))

    def _recorded(
        self, distinct_id: str, experiment: str, others: tuple[str, ...] = ()
    ) -> Record | None:
        text = self._guard.get(exposure_key(distinct_id, experiment))
        if text is None:
            text = self._recorded_elsewhere(distinct_id, experiment, others)
        return Record.decode(text) if text is not None else None

    def _recorded_elsewhere(
        self, distinct_id: str, experiment: str, others: tuple[str, ...]
    ) -> str | None:
        """The record of an exposure under the person's linked or other ids, if any."""
        anon_id = self._linked(distinct_id)
        for other in (anon_id, *others) if anon_id is not None else others:
            text = self._guard.get(exposure_key(other, experiment))
            if text is not None:
                return text
        return None

    # -- identity -----------------------------------------------------------------------

    def identify(self, anon_id: str, user_id: str) -> bool:
        """Link an anonymous id to the user it turned out to be (call it at login).

        Exposures recorded for ``anon_id`` then count for ``user_id``: no second exposure,
        and with ``sticky`` the user keeps the variant they saw before logging in. The first
        anonymous id linked to a user stays linked. Returns True if this call made the link.
        Identify the user in Mixpanel too (``client.identify``) so reports join both ids.

        >>> experiments.identify("anon-7f3", "user-42")  # doctest: +SKIP
        True
        """
        _check_name("anon_id", anon_id)
        _check_name("user_id", user_id)
        if anon_id == user_id:
            return False
        return self._guard.add(link_key(user_id), anon_id)

    # -- exposure -----------------------------------------------------------------------

    def _expose(self, variant: Variant, others: tuple[str, ...] = ()) -> bool:
        name = variant.name
        if name is None or not variant.in_experiment:
            self._count("excluded")
            return False
        scope = self._scope.get()
        if scope is not None and scope.withholding:
            scope.keep(variant)
            self._count("withheld")
            return False
        if self._recorded_elsewhere(variant.distinct_id, variant.experiment, others):
            self._count("duplicates")
            return False
        key = exposure_key(variant.distinct_id, variant.experiment)
        record = Record(os.urandom(16).hex(), name, variant.value).encode()
        if not self._guard.add(key, record):
            self._count("duplicates")
            return False
        # The person's other ids are recorded too, so whichever id a later request carries
        # (another worker, a login that skipped the middleware) finds this exposure.
        also = tuple(
            exposure_key(other, variant.experiment)
            for other in others
            if self._guard.add(exposure_key(other, variant.experiment), record)
        )
        metadata = variant.metadata
        held = Held(
            Exposure(
                variant.distinct_id,
                variant.experiment,
                name,
                provider=str(getattr(self.flags, "name", type(self.flags).__name__)),
                time=time.time(),
                experiment_type=str(metadata.get("$experiment_type", self.experiment_type)),
                metadata=metadata,
            ),
            key,
            record,
            also,
        )
        if scope is not None and scope.hold(held):
            self._count("held")
            return True
        return self._send(held)

    def _send(self, held: Held) -> bool:
        try:
            held.exposure.send(self.client)
        except Exception:
            logger.exception(
                "could not send the exposure of %r to %r; it will be retried on the next render",
                held.exposure.distinct_id,
                held.exposure.experiment,
            )
            self._count("send_errors")
            self._release_keys(held)
            return False
        self._count("exposed")
        return True

    def _release_keys(self, held: Held) -> None:
        for key in (held.key, *held.also):
            self._guard.release(key, held.record)

    def _release(self, held: Held) -> None:
        self._release_keys(held)
        self._count("discarded")

    def request_scope(self) -> RequestScope:
        """Hold exposures made in a ``with`` block until :meth:`RequestScope.commit`.

        Exposures outside any scope are sent at once. Leaving the block without commit
        discards (see :class:`RequestScope`).

        >>> with experiments.request_scope() as scope:  # doctest: +SKIP
        ...     experiments.variant("user-42", "checkout_redesign").expose()
        ...     scope.commit()
        """
        return RequestScope(self._scope, self._send, self._release)

    def stats(self) -> ExperimentStats:
        """A snapshot of the counters (see :class:`ExperimentStats`)."""
        with self._lock:
            counts = dict(self._counts)
        return ExperimentStats(
            ledger_errors=self._guard.errors,
            ledger_fallbacks=self._guard.fallbacks,
            **counts,
        )

    def __repr__(self) -> str:
        return f"Experiments({self.flags!r}, ledger={self.ledger!r})"
