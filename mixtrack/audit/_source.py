"""Where the audit reads events from: a collector store, a collector's SQLite file, or a
running collector over HTTP. This is the audit's only I/O, and it never imports the
collector: a store is anything with ``all_events()`` and ``identity_links()``, and the
database file is read with the standard library.

>>> from mixtrack.collector import SqliteStore
>>> events, identity = from_store(SqliteStore(":memory:"))
>>> events, identity("user-42")
([], 'user-42')
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Protocol

import httpx

from mixtrack.audit._stream import Identity, identity_from_clusters, identity_from_links
from mixtrack.protocol.identity import Link, check_mode

__all__ = ["EventSource", "from_collector", "from_db", "from_store"]

_PAGE = 100_000
Events = list[dict[str, Any]]


class EventSource(Protocol):
    """What the audit reads from a store (``mixtrack.collector.Store`` is one).

    >>> from mixtrack.collector import SqliteStore
    >>> source: EventSource = SqliteStore(":memory:")
    """

    def all_events(self) -> list[dict[str, Any]]: ...

    def identity_links(self) -> list[Link]: ...


def from_store(store: EventSource, identity: str = "simplified") -> tuple[Events, Identity]:
    """Every stored event in arrival order, and the identity clusters the store's links form
    under the ID-merge system ``identity`` (``"simplified"`` or ``"original"``)."""
    mode = check_mode(identity)
    return store.all_events(), identity_from_links(store.identity_links(), mode)


def from_db(path: str | os.PathLike[str], identity: str = "simplified") -> tuple[Events, Identity]:
    """Read a collector's SQLite file (``mixtrack collector --db PATH``); it may be live."""
    mode = check_mode(identity)
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"no collector database at {str(path)!r}: pass the file given to "
            "`mixtrack collector --db`, or --collector URL for a running collector"
        )
    # Read-only: the audit must never change (or create) a collector's database.
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            rows = db.execute("SELECT name, properties FROM events ORDER BY seq").fetchall()
            columns = {row[1] for row in db.execute("PRAGMA table_info(links)")}
            system = "system" if "system" in columns else "'original'"
            links = db.execute(f"SELECT kept, merged, {system} FROM links ORDER BY seq")
            found = [Link(kept, merged, check_mode(kind)) for kept, merged, kind in links]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise OSError(f"{str(path)!r} is not a mixtrack collector database: {exc}") from None
    events = [{"event": name, "properties": json.loads(props)} for name, props in rows]
    return events, identity_from_links(found, mode)


def from_collector(
    url: str, *, timeout: float = 30.0, identity: str | None = None
) -> tuple[Events, Identity]:
    """Fetch every event and identity cluster from a running collector at ``url``; the
    clusters are built by ``identity`` (default: the collector's own ``--identity``)."""
    query: dict[str, str] = {} if identity is None else {"mode": check_mode(identity)}
    base = url.rstrip("/")
    events: Events = []
    # trust_env=False: a proxy from the environment must not sit before a local collector.
    with httpx.Client(base_url=base, timeout=timeout, trust_env=False) as http:
        after = 0
        while True:
            page = _get(http, "events", {"after": str(after), "limit": str(_PAGE)})
            events.extend(page["events"])
            if page["count"] < _PAGE:
                break
            after = page["after"]
        clusters = _get(http, "identity", query)["clusters"]
    return events, identity_from_clusters(clusters)


def _get(http: httpx.Client, route: str, params: dict[str, str]) -> Any:
    try:
        response = http.get(f"/_mixtrack/{route}", params=params)
    except httpx.HTTPError as exc:
        raise ConnectionError(
            f"cannot reach the collector at {http.base_url}: {exc} (is `mixtrack collector` "
            "running there?)"
        ) from exc
    if response.status_code != 200:
        raise ConnectionError(
            f"{http.base_url}/_mixtrack/{route} answered {response.status_code}: "
            f"{response.text[:200]}"
        )
    return response.json()
