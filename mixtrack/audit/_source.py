"""Where the audit reads events from: a collector store, a collector's SQLite file, or a
running collector over HTTP. This is the audit's only I/O.

>>> from mixtrack.collector import SqliteStore
>>> events, identity = from_store(SqliteStore(":memory:"))
>>> events, identity("user-42")
([], 'user-42')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from mixtrack.audit._stream import Identity, identity_from_clusters, identity_from_links
from mixtrack.collector._store import EventQuery, Store

__all__ = ["from_collector", "from_db", "from_store"]

_PAGE = 100_000
Events = list[dict[str, Any]]


def from_store(store: Store) -> tuple[Events, Identity]:
    """Every stored event in arrival order, and the identity clusters the store knows."""
    events: Events = []
    after = 0
    while True:
        page, _ = store.events(EventQuery(after=after, limit=_PAGE))
        events.extend({"event": e.event, "properties": e.properties} for e in page)
        if len(page) < _PAGE:
            break
        after = page[-1].seq
    return events, identity_from_links(store.identity_links())


def from_db(path: str | os.PathLike[str]) -> tuple[Events, Identity]:
    """Read a collector's SQLite file (``mixtrack collector --db PATH``); it may be live."""
    from mixtrack.collector import SqliteStore

    if not Path(path).is_file():
        raise FileNotFoundError(
            f"no collector database at {str(path)!r}: pass the file given to "
            "`mixtrack collector --db`, or --collector URL for a running collector"
        )
    store = SqliteStore(Path(path))
    try:
        return from_store(store)
    finally:
        store.close()


def from_collector(url: str, *, timeout: float = 30.0) -> tuple[Events, Identity]:
    """Fetch every event and identity cluster from a running collector at ``url``."""
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
        clusters = _get(http, "identity", {})["clusters"]
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
