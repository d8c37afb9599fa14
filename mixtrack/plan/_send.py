"""What a generated plan module sends through: any mixtrack client, or a web visitor.

A generated function (``mixtrack plan codegen``) takes a :class:`Tracker` first: a
:class:`mixtrack.Client`, a :class:`mixtrack.AsyncClient` (its ``track`` is a plain call too), a
``mixtrack.testing`` client, or anything with the same ``track``. In a web view the visitor's
tracker knows the distinct_id already; :class:`Visitor` lets it stand where a client goes::

    shop_plan.viewed_product(Visitor(request.mixtrack), None, product="pro", price=29.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mixtrack.errors import ValidationError

__all__ = ["Tracker", "Visitor", "VisitorTracker"]


class Tracker(Protocol):
    """What the generated functions call: ``track(distinct_id, event, properties)``.

    >>> import mixtrack
    >>> tracker: Tracker = mixtrack.Client("T", api_host="http://127.0.0.1:1", disabled=True)
    """

    def track(
        self,
        distinct_id: str | None,
        event: str,
        properties: Mapping[str, Any] | None = None,
    ) -> None: ...


class VisitorTracker(Protocol):
    """A tracker bound to one visitor: ``request.mixtrack`` (Django, FastAPI) or the
    ``mixtrack_flask`` module, whose ``track(event, properties)`` knows who is tracked."""

    def track(self, event: str, properties: Mapping[str, Any] | None = None) -> None: ...


class Visitor:
    """A :class:`Tracker` over a :class:`VisitorTracker`: pass ``None`` as the distinct_id
    and the visitor's own is used.

    >>> from mixtrack.testing import capture
    >>> recorder = capture()
    >>> class Request:
    ...     def track(self, event, properties=None):
    ...         recorder.client.track("visitor-1", event, properties)
    >>> Visitor(Request()).track(None, "Viewed home", {})
    >>> recorder.named("Viewed home")[0]["properties"]["distinct_id"]
    'visitor-1'
    """

    def __init__(self, tracker: VisitorTracker) -> None:
        self.tracker = tracker

    def track(
        self,
        distinct_id: str | None,
        event: str,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        if distinct_id is not None:
            raise ValidationError(
                f"a visitor's tracker sends as the visitor: pass None as the distinct_id, "
                f"got {distinct_id!r} (use a Client to track another user)"
            )
        self.tracker.track(event, properties)
