"""Per-request context: a distinct_id and properties that apply to every event tracked
inside a ``with mixtrack.context(...)`` block, in this thread or asyncio task only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import attrs

from mixtrack._delivery.messages import coerce_distinct_id, merge_properties

__all__ = ["Context", "context", "current_context"]


@attrs.frozen
class Context:
    """The ``distinct_id`` and properties that events tracked here get: what
    :func:`mixtrack.context` sets, and what a job queue carries to its jobs.

    >>> Context("user-42", {"request_id": "r-1"}).distinct_id
    'user-42'
    """

    distinct_id: str | None = None
    properties: Mapping[str, Any] = attrs.field(factory=dict)


_EMPTY = Context()
_current: ContextVar[Context] = ContextVar("mixtrack_context", default=_EMPTY)


def current_context() -> Context:
    """The context in force here (an empty one outside any ``mixtrack.context`` block)."""
    return _current.get()


@contextlib.contextmanager
def context(distinct_id: str | int | None = None, **properties: Any) -> Iterator[Context]:
    """Sets the distinct_id and extra properties of events tracked inside the block.

    Blocks nest: inner properties win, and an inner ``distinct_id`` replaces the outer one.
    Properties passed to ``track()`` win over both.

    >>> with mixtrack.context(distinct_id="user-42", request_id="r-1"):  # doctest: +SKIP
    ...     client.track(None, "Viewed page", {"path": "/pricing"})
    """
    outer = _current.get()
    merged = dict(outer.properties)
    merge_properties(merged, properties, what="context properties")
    who = outer.distinct_id if distinct_id is None else coerce_distinct_id(distinct_id)
    token = _current.set(Context(who, merged))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
