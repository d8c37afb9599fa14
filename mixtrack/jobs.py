"""What job-queue integrations need from mixtrack, as public names.

A job runs far from the request that enqueued it: the integration reads the
:class:`Context` in force when the job is enqueued (:func:`current_context`), carries its
``distinct_id`` and ``properties`` in the job's headers, and re-enters it with
:func:`mixtrack.context` around the job. When a job or a worker process ends, what was tracked
must leave before the process is frozen or killed: :func:`settle_client` settles one client,
:func:`settle_live_clients` every client alive in this process.

>>> from mixtrack.jobs import current_context, settle_live_clients
>>> carried = current_context()
>>> carried.distinct_id is None
True
>>> settle_live_clients(closing=False)  # flushes every live client within its budget
"""

from __future__ import annotations

from mixtrack._context import Context, current_context
from mixtrack._flush_after import settle_client
from mixtrack._flush_after import settle_process_clients as settle_live_clients

__all__ = ["Context", "current_context", "settle_client", "settle_live_clients"]
