"""An RQ worker that delivers what a job tracked before the work-horse exits, and a queue
that carries the queuing code's ``mixtrack.context`` to the job in ``job.meta``.

RQ forks a work-horse per job and ends it with ``os._exit``: atexit never runs there, so the
horse's queued events would be lost. ``perform_job`` runs in the horse (and, for
``SimpleWorker``, in the worker itself) around the job and its callbacks; settling the
process's clients at its end covers both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import rq

import mixtrack
from mixtrack.jobs import current_context, settle_live_clients

__all__ = ["META_KEY", "Queue", "SimpleWorker", "Worker", "carried_context"]

log = logging.getLogger("mixtrack")

#: the ``job.meta`` key that carries the context: {"distinct_id": ..., "properties": {...}}
META_KEY = "mixtrack_context"


class Queue(rq.Queue):
    """An ``rq.Queue`` whose jobs carry the ``mixtrack.context(...)`` in force at ``enqueue``.

    >>> queue = mixtrack_rq.Queue(connection=redis.Redis())  # doctest: +SKIP
    >>> with mixtrack.context(distinct_id="user-42"):  # doctest: +SKIP
    ...     queue.enqueue(send_receipt, 7)   # tracked in the job as user-42
    """

    def create_job(self, *args: Any, **kwargs: Any) -> rq.job.Job:
        ctx = current_context()
        if ctx.distinct_id is not None or ctx.properties:
            meta = dict(kwargs.get("meta") or {})
            # a context set on purpose in meta= wins
            meta.setdefault(
                META_KEY, {"distinct_id": ctx.distinct_id, "properties": dict(ctx.properties)}
            )
            kwargs["meta"] = meta
        return super().create_job(*args, **kwargs)


def carried_context(job: rq.job.Job) -> tuple[str | None, dict[str, Any]] | None:
    """The distinct_id and properties a job carries from ``enqueue``, or None.

    >>> carried_context(queue.enqueue(send_receipt, 7))  # doctest: +SKIP
    ('user-42', {})
    """
    value = (job.meta or {}).get(META_KEY)
    if not isinstance(value, Mapping):
        return None
    distinct_id = value.get("distinct_id")
    properties = value.get("properties")
    return (
        distinct_id if isinstance(distinct_id, str) else None,
        dict(properties) if isinstance(properties, Mapping) else {},
    )


class _Settling:
    """What both workers add to ``perform_job``: the job's context, then delivery."""

    is_horse: bool

    def perform_job(self, job: rq.job.Job, *args: Any, **kwargs: Any) -> bool:
        try:
            return self._perform_in_context(job, *args, **kwargs)
        finally:
            # The horse is about to os._exit: close the clients within their budget (what is
            # left is counted as dropped and logged). A worker that runs jobs itself goes on
            # working, so its clients are only flushed.
            settle_live_clients(closing=self.is_horse)

    def _perform_in_context(self, job: rq.job.Job, *args: Any, **kwargs: Any) -> bool:
        perform: Any = super().perform_job  # type: ignore[misc]
        carried = carried_context(job)
        if carried is None:
            return bool(perform(job, *args, **kwargs))
        distinct_id, properties = carried
        try:
            block = mixtrack.context(distinct_id, **properties)
            block.__enter__()
        except (mixtrack.ValidationError, TypeError):
            log.warning("mixtrack: job %s carried an unusable context in meta", job.id)
            return bool(perform(job, *args, **kwargs))
        try:
            return bool(perform(job, *args, **kwargs))
        finally:
            block.__exit__(None, None, None)


class Worker(_Settling, rq.Worker):
    """``rq.Worker`` that delivers each job's events before its work-horse exits.

    Jobs run in the ``mixtrack.context`` they carry from :class:`Queue`'s ``enqueue``.
    Every mixtrack client of the work-horse is shut down after the job, within its
    ``shutdown_timeout``, so nothing waits for the atexit that ``os._exit`` skips::

        rq worker --worker-class mixtrack_rq.Worker --queue-class mixtrack_rq.Queue

    >>> mixtrack_rq.Worker(["default"], connection=redis.Redis()).work()  # doctest: +SKIP
    """


class SimpleWorker(_Settling, rq.SimpleWorker):
    """``rq.SimpleWorker`` (jobs in the worker's own process, no fork) that flushes every
    mixtrack client after each job and runs the job in the context it carries.

    >>> mixtrack_rq.SimpleWorker(["default"], connection=redis.Redis()).work()  # doctest: +SKIP
    """
