"""The local Mixpanel-compatible collector: ingest, store, query API, faults and live view.

>>> from mixtrack.collector import CollectorApp, CollectorServer, SqliteStore
>>> app = CollectorApp(SqliteStore(":memory:"))
>>> server = CollectorServer(app, port=0).start()  # doctest: +SKIP
>>> server.url  # doctest: +SKIP
'http://127.0.0.1:40123'

``mixtrack collector`` runs the same thing from the command line; ``mixtrack.testing.Collector``
wraps it for test suites.
"""

from __future__ import annotations

from mixtrack.collector._app import CollectorApp
from mixtrack.collector._counting import CountingStore
from mixtrack.collector._faults import Fault
from mixtrack.collector._limits import ServerLimits
from mixtrack.collector._server import CollectorServer
from mixtrack.collector._sqlite import SqliteStore
from mixtrack.collector._store import EventQuery, Rejection, Store, StoredEvent, Written

__all__ = [
    "CollectorApp",
    "CollectorServer",
    "CountingStore",
    "EventQuery",
    "Fault",
    "Rejection",
    "ServerLimits",
    "SqliteStore",
    "Store",
    "StoredEvent",
    "Written",
]
