"""A client's tracking plan: each event is checked against it before it is queued.

With ``invalid="raise"`` (tests, development) an off-plan event raises
:class:`~mixtrack.OffPlanError` naming the event and every broken rule. Otherwise it is
counted in ``stats().off_plan`` and logged as a WARNING on the ``mixtrack`` logger (once for
each event and reason, so a hot loop cannot flood the log), then sent, or dropped with
``off_plan="drop"``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mixtrack.errors import OffPlanError

if TYPE_CHECKING:
    import os

    from mixtrack.plan import Plan

__all__ = ["PlanGuard"]

log = logging.getLogger("mixtrack")

_REMEMBERED = 1024  # (event, reasons) already logged; past that, only counted


class PlanGuard:
    """Checks events against ``plan`` for one client.

    >>> from mixtrack.plan import Entry, Plan
    >>> guard = PlanGuard(Plan([Entry("event", "Signed up", {})]), raising=False, drop=True)
    >>> guard.allows({"event": "Signed upp", "properties": {}}), guard.count
    (False, 1)
    """

    def __init__(self, plan: Plan, *, raising: bool, drop: bool) -> None:
        self.plan = plan
        self.raising = raising
        self.drop = drop
        self.count = 0
        self._lock = threading.Lock()
        self._logged: set[tuple[str, str]] = set()

    @classmethod
    def of(cls, plan: str | os.PathLike[str] | Plan, *, raising: bool, drop: bool) -> PlanGuard:
        from mixtrack.plan import Plan

        return cls(Plan.load(plan), raising=raising, drop=drop)

    def allows(self, message: Mapping[str, Any]) -> bool:
        """Whether to send ``message`` (an event): True when it keeps to the plan, or breaks
        it and off-plan events are sent. Raises :class:`~mixtrack.OffPlanError` when strict."""
        event = message["event"]
        violations = self.plan.check(event, message["properties"])
        if not violations:
            return True
        if self.raising:
            raise OffPlanError(event, violations)
        reasons = "; ".join(v.reason for v in violations)
        with self._lock:
            self.count += 1
            key = (event, reasons)
            first = key not in self._logged and len(self._logged) < _REMEMBERED
            if first:
                self._logged.add(key)
        if first:
            log.warning(
                "mixtrack: event %r breaks the tracking plan (%s); %s. Counted in "
                "stats().off_plan; with invalid='raise' this raises OffPlanError at the call.",
                event,
                reasons,
                "dropped (off_plan='drop')" if self.drop else "sent anyway",
                extra={"mixtrack_event": event, "mixtrack_plan_reasons": reasons},
            )
        return not self.drop
