"""mixtrack for Celery: the queuing user's context reaches the task; no worker loses events.

>>> import mixtrack, mixtrack_celery  # doctest: +SKIP
>>> from celery import Celery  # doctest: +SKIP
>>> app = Celery("shop", broker="redis://127.0.0.1:6379/0")  # doctest: +SKIP
>>> client = mixtrack.Client.from_env()  # doctest: +SKIP
>>> mixtrack_celery.instrument(app, client)  # doctest: +SKIP

See :func:`instrument`.
"""

from __future__ import annotations

from mixtrack_celery._instrument import HEADER, Instrumentation, instrument

__all__ = ["HEADER", "Instrumentation", "instrument"]
