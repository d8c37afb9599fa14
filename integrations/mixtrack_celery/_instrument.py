"""Celery signal handlers: the queuing code's ``mixtrack.context`` rides in a message header
into the task, and each worker process delivers what it holds before it goes away.

Why signals and not a Task base class: ``before_task_publish`` sees every publish
(``delay``, ``apply_async``, ``send_task``, canvas, retries), whatever class the task has, and
its ``headers`` are the message's own headers, which the worker turns into attributes of
``task.request``. A prefork child ends with ``os._exit`` (atexit never runs there), but
billiard calls ``worker_process_shutdown`` in the child first, also for children recycled by
``--max-tasks-per-child``; ``worker_shutdown`` is sent by the main process on a warm shutdown
and before a ``SIGHUP`` restart re-executes it (where atexit does not run either).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import mixtrack
from mixtrack.jobs import current_context, settle_client

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["HEADER", "Instrumentation", "instrument"]

log = logging.getLogger("mixtrack")

#: the message header that carries the context: {"distinct_id": ..., "properties": {...}}
HEADER = "mixtrack_context"


class _Carrier:
    """Carries the context for every instrumented app of the process, once.

    One per process, whatever the number of ``instrument()`` calls: a task must enter its
    context once, or two blocks left in the wrong order would leave it in force afterwards.
    """

    def __init__(self) -> None:
        self._apps: list[Celery] = []
        self._open: dict[str, AbstractContextManager[Any]] = {}
        self._lock = threading.Lock()

    def _connections(self) -> list[tuple[Any, Any]]:
        from celery import signals

        return [
            (signals.before_task_publish, self._on_publish),
            (signals.task_prerun, self._on_prerun),
            (signals.task_postrun, self._on_postrun),
        ]

    def add(self, app: Celery) -> None:
        with self._lock:
            first = not self._apps
            self._apps.append(app)
        if first:
            for signal, receiver in self._connections():
                signal.connect(receiver, weak=False)

    def remove(self, app: Celery) -> None:
        with self._lock:
            if app in self._apps:
                self._apps.remove(app)
            last = not self._apps
        if last:
            for signal, receiver in self._connections():
                signal.disconnect(receiver)

    def _on_publish(self, headers: dict[str, Any] | None = None, **_: Any) -> None:
        ctx = current_context()
        if headers is None or (ctx.distinct_id is None and not ctx.properties):
            return
        # setdefault: a header the caller set on purpose (apply_async(headers=...)) wins
        headers.setdefault(
            HEADER, {"distinct_id": ctx.distinct_id, "properties": dict(ctx.properties)}
        )

    def _on_prerun(self, task_id: str | None = None, task: Any = None, **_: Any) -> None:
        app = getattr(task, "app", None)
        if task_id is None or not any(app is known for known in self._apps):
            return
        carried = _carried(task.request)
        if carried is None:
            return
        distinct_id, properties = carried
        try:
            block = mixtrack.context(distinct_id, **properties)
            block.__enter__()
        except (mixtrack.ValidationError, TypeError):
            log.warning("mixtrack: task %s carried an unusable context header", task_id)
            return
        with self._lock:
            self._open[task_id] = block

    def _on_postrun(self, task_id: str | None = None, **_: Any) -> None:
        if task_id is None:
            return
        with self._lock:
            block = self._open.pop(task_id, None)
        if block is not None:
            block.__exit__(None, None, None)


_carrier = _Carrier()


class Instrumentation:
    """What :func:`instrument` connected for one app and client.

    >>> instrumentation = mixtrack_celery.instrument(app, client)  # doctest: +SKIP
    >>> instrumentation.uninstrument()  # disconnects it again  # doctest: +SKIP
    """

    def __init__(self, app: Celery, client: mixtrack.Client | mixtrack.AsyncClient) -> None:
        from celery import signals

        self.app = app
        self.client = client
        self._connections = [
            (signals.worker_process_shutdown, self._on_process_shutdown),
            (signals.worker_shutdown, self._on_worker_shutdown),
        ]
        for signal, receiver in self._connections:
            # weak=False: bound methods of this object are the receivers; it keeps them alive
            signal.connect(receiver, weak=False)
        _carrier.add(app)
        self._connected = True

    def uninstrument(self) -> None:
        """Disconnects the handlers (the client stays open). Calling it again does nothing.

        >>> instrumentation.uninstrument()  # doctest: +SKIP
        """
        if not self._connected:
            return
        self._connected = False
        for signal, receiver in self._connections:
            signal.disconnect(receiver)
        _carrier.remove(self.app)

    def _on_process_shutdown(self, **_: Any) -> None:
        settle_client(self.client, closing=True)

    def _on_worker_shutdown(self, sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", self.app) is self.app:
            settle_client(self.client, closing=True)


def _carried(request: Any) -> tuple[str | None, dict[str, Any]] | None:
    # Celery promotes custom message headers to attributes of task.request; some versions
    # (and eager calls with headers=) keep them in request.headers instead.
    value = getattr(request, HEADER, None)
    if value is None:
        headers = getattr(request, "headers", None)
        if isinstance(headers, Mapping):
            value = headers.get(HEADER)
    if not isinstance(value, Mapping):
        return None
    distinct_id = value.get("distinct_id")
    properties = value.get("properties")
    return (
        distinct_id if isinstance(distinct_id, str) else None,
        dict(properties) if isinstance(properties, Mapping) else {},
    )


def instrument(app: Celery, client: mixtrack.Client | mixtrack.AsyncClient) -> Instrumentation:
    """Makes ``client`` work across Celery's processes for ``app``.

    - The ``mixtrack.context(...)`` in force where a task is queued (its distinct_id and
      properties) travels in the message header ``mixtrack_context`` and is in force while the
      task runs, so ``client.track(None, ...)`` in the task is attributed to the queuing user.
    - Each prefork child has its own delivery worker (the client rebuilds it after ``fork``,
      also in children recycled by ``--max-tasks-per-child``). A child that exits, a warm
      shutdown and a ``SIGHUP`` restart deliver what is queued within the client's
      ``shutdown_timeout``; what cannot be delivered in time is counted as dropped and logged.

    Call it where both the queuing code and the worker import it (next to ``app``)::

        app = Celery("shop", broker="redis://127.0.0.1:6379/0")
        client = mixtrack.Client.from_env()
        mixtrack_celery.instrument(app, client)

        @app.task
        def send_receipt(order_id):
            client.track(None, "Receipt sent", {"order": order_id})

        with mixtrack.context(distinct_id="user-42"):
            send_receipt.delay(7)          # tracked in the worker as user-42

    With an :class:`~mixtrack.AsyncClient`, run the async code of a task with
    ``asyncio.run(...)`` and flush in it (``async with client.flush_after(...)``); a child's
    exit closes the client on a loop of its own.
    """
    if not isinstance(client, (mixtrack.Client, mixtrack.AsyncClient)):
        raise mixtrack.ConfigError(
            f"instrument(app, client) needs a mixtrack.Client or mixtrack.AsyncClient, "
            f"got {type(client).__name__}"
        )
    return Instrumentation(app, client)
