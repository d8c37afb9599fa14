"""mixtrack for RQ: jobs deliver their events before the work-horse exits, as their user.

Queue with :class:`Queue` where the user's ``mixtrack.context`` is in force, and run::

    rq worker --worker-class mixtrack_rq.Worker

>>> import mixtrack, mixtrack_rq, redis  # doctest: +SKIP
>>> queue = mixtrack_rq.Queue(connection=redis.Redis())  # doctest: +SKIP
>>> with mixtrack.context(distinct_id="user-42"):  # doctest: +SKIP
...     queue.enqueue("shop.jobs.send_receipt", 7)
"""

from __future__ import annotations

from mixtrack_rq._worker import META_KEY, Queue, SimpleWorker, Worker, carried_context

__all__ = ["META_KEY", "Queue", "SimpleWorker", "Worker", "carried_context"]
