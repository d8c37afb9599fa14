"""SQLite store: one connection in WAL mode, guarded by a lock; one transaction per request."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixtrack.collector import _profiles
from mixtrack.collector._store import EventQuery, Rejection, StoredEvent, Written
from mixtrack.collector._validate import Event, Update
from mixtrack.protocol import json_values as _json
from mixtrack.protocol.identity import Link, check_mode, clusters

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    distinct_id TEXT NOT NULL,
    time REAL NOT NULL,
    time_ms INTEGER NOT NULL,
    insert_id TEXT,
    token TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    received_at REAL NOT NULL,
    properties TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_name ON events (name);
CREATE INDEX IF NOT EXISTS events_distinct_id ON events (distinct_id);
CREATE TABLE IF NOT EXISTS profiles (
    distinct_id TEXT PRIMARY KEY,
    properties TEXT NOT NULL,
    token TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
    group_key TEXT NOT NULL,
    group_id TEXT NOT NULL,
    properties TEXT NOT NULL,
    token TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (group_key, group_id)
);
CREATE TABLE IF NOT EXISTS links (
    seq INTEGER PRIMARY KEY,
    kept TEXT NOT NULL,
    merged TEXT NOT NULL,
    system TEXT NOT NULL DEFAULT 'original'
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    received_at REAL NOT NULL,
    failed TEXT NOT NULL,
    excerpt TEXT NOT NULL
);
"""

INSERT_EVENT = (
    "INSERT INTO events (name, distinct_id, time, time_ms, insert_id, token, endpoint,"
    " received_at, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SqliteStore:
    """The default :class:`~mixtrack.collector.Store`: a SQLite file, or ``":memory:"``.

    >>> store = SqliteStore(":memory:")
    >>> store.counts()["events"]
    0
    """

    def __init__(self, path: str | Path = "mixtrack-collector.sqlite3") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL without fsync survives a crash of the collector process; only an OS crash
            # or power loss could cost recent writes. A local collector trades that for speed:
            # fsync at every checkpoint halves the ingest rate.
            self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(links)")}
        if "system" not in columns:  # a database written before links named their system
            self._db.execute("ALTER TABLE links ADD COLUMN system TEXT NOT NULL DEFAULT 'original'")
        # Mixpanel's duplicate rule (same event, distinct_id, time and $insert_id) is checked
        # against hashes in memory: a unique index on random ids costs most of the write time.
        self._links: set[Link] = set(self.identity_links())
        self._seen: set[int] = {
            _dedup_key(*row)
            for row in self._db.execute(
                "SELECT insert_id, name, distinct_id, time_ms FROM events"
                " WHERE insert_id IS NOT NULL"
            )
        }

    def add_events(
        self,
        events: Sequence[Event],
        *,
        endpoint: str,
        received_at: float,
        links: Sequence[Link] = (),
    ) -> Written:
        dumps = _json.dumps_str
        keyed = [(e, round(e.time * 1000)) for e in events]
        keys = [
            None if e.insert_id is None else _dedup_key(e.insert_id, e.name, e.distinct_id, ms)
            for e, ms in keyed
        ]
        with self._lock:
            seen = self._seen
            rows = []
            for (e, ms), key in zip(keyed, keys, strict=True):
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                rows.append(
                    (
                        e.name,
                        e.distinct_id,
                        e.time,
                        ms,
                        e.insert_id,
                        e.token,
                        endpoint,
                        received_at,
                        dumps(e.properties),
                    )
                )
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany(INSERT_EVENT, rows)
                # A signed-in visitor's every event repeats the same ($user_id, $device_id)
                # link: keep each link once.
                links = [link for link in dict.fromkeys(links) if link not in self._links]
                self._links.update(links)
                if links:
                    db.executemany(
                        "INSERT INTO links (kept, merged, system) VALUES (?, ?, ?)", links
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                seen.difference_update(k for k in keys if k is not None)
                raise
        return Written(stored=len(rows), duplicates=len(events) - len(rows))

    def apply_updates(self, updates: Sequence[Update], *, received_at: float) -> int:
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                for update in updates:
                    self._apply(update, received_at)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(updates)

    def _apply(self, update: Update, received_at: float) -> None:
        db = self._db
        key: tuple[str, ...]
        if update.group_key:
            table, where, key = (
                "groups",
                "group_key = ? AND group_id = ?",
                (update.group_key, update.id),
            )
        else:
            table, where, key = "profiles", "distinct_id = ?", (update.id,)
        row = db.execute(f"SELECT properties FROM {table} WHERE {where}", key).fetchone()
        current = _json.loads(row[0]) if row else None
        result = _profiles.apply(current, update.op, update.value)
        if result is None:
            db.execute(f"DELETE FROM {table} WHERE {where}", key)
            return
        text = _json.dumps_str(result)
        if table == "groups":
            db.execute(
                "INSERT INTO groups (group_key, group_id, properties, token, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_key, group_id) DO UPDATE SET"
                " properties = excluded.properties, updated_at = excluded.updated_at",
                (*key, text, update.token, received_at),
            )
        else:
            db.execute(
                "INSERT INTO profiles (distinct_id, properties, token, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (distinct_id) DO UPDATE SET"
                " properties = excluded.properties, updated_at = excluded.updated_at",
                (*key, text, update.token, received_at),
            )

    def add_rejection(self, rejection: Rejection) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO rejected (endpoint, method, status, reason, received_at, failed,"
                " excerpt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    rejection.endpoint,
                    rejection.method,
                    rejection.status,
                    rejection.reason,
                    rejection.received_at,
                    _json.dumps_str(list(rejection.failed)),
                    rejection.excerpt,
                ),
            )

    def events(self, query: EventQuery) -> tuple[list[StoredEvent], int]:
        where, args = self._where(query)
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM events{where}", args).fetchone()[0]
            rows = self._db.execute(
                "SELECT seq, name, properties, endpoint, received_at FROM events"
                f"{where} ORDER BY seq LIMIT ? OFFSET ?",
                (*args, query.limit, query.offset),
            ).fetchall()
        found = [
            StoredEvent(seq, name, _json.loads(props), ep, at) for seq, name, props, ep, at in rows
        ]
        return found, int(total)

    def _where(self, query: EventQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if query.after:
            clauses.append("seq > ?")
            args.append(query.after)
        if query.event is not None:
            clauses.append("name = ?")
            args.append(query.event)
        if query.distinct_id is not None:
            ids = [query.distinct_id]
            if query.identity:
                by_id = clusters(self.identity_links(), query.identity_mode)
                ids = by_id.get(query.distinct_id, ids)
            clauses.append(f"distinct_id IN ({', '.join('?' * len(ids))})")
            args.extend(ids)
        if query.since is not None:
            clauses.append("time >= ?")
            args.append(query.since)
        if query.until is not None:
            clauses.append("time < ?")
            args.append(query.until)
        if query.endpoint is not None:
            clauses.append("endpoint = ?")
            args.append(query.endpoint)
        for name, value in query.properties.items():
            path = '$."' + name.replace('"', '\\"') + '"'
            if value is None:
                clauses.append("json_type(properties, ?) = 'null'")
                args.append(path)
            elif isinstance(value, (dict, list)):
                clauses.append("json_extract(properties, ?) = json(?)")
                args.extend((path, _json.dumps_str(value)))
            elif isinstance(value, bool):
                clauses.append("json_type(properties, ?) = ?")
                args.extend((path, "true" if value else "false"))
            else:
                clauses.append("json_extract(properties, ?) = ?")
                args.extend((path, value))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def profiles(self, distinct_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT distinct_id, properties, token FROM profiles"
        args: tuple[str, ...] = ()
        if distinct_id is not None:
            sql, args = sql + " WHERE distinct_id = ?", (distinct_id,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return [
            {"distinct_id": ident, "properties": _json.loads(props), "token": token}
            for ident, props, token in rows
        ]

    def groups(
        self, group_key: str | None = None, group_id: str | None = None
    ) -> list[dict[str, Any]]:
        clauses, args = [], []
        if group_key is not None:
            clauses.append("group_key = ?")
            args.append(group_key)
        if group_id is not None:
            clauses.append("group_id = ?")
            args.append(group_id)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT group_key, group_id, properties, token FROM groups{where} ORDER BY rowid",
                args,
            ).fetchall()
        return [
            {"group_key": key, "group_id": ident, "properties": _json.loads(props), "token": token}
            for key, ident, props, token in rows
        ]

    def rejected(self) -> list[Rejection]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, endpoint, method, status, reason, received_at, failed, excerpt"
                " FROM rejected ORDER BY seq"
            ).fetchall()
        return [
            Rejection(
                endpoint=endpoint,
                method=method,
                status=status,
                reason=reason,
                received_at=at,
                failed=_json.loads(failed),
                excerpt=excerpt,
                seq=seq,
            )
            for seq, endpoint, method, status, reason, at, failed, excerpt in rows
        ]

    def identity_links(self) -> list[Link]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kept, merged, system FROM links ORDER BY seq"
            ).fetchall()
        return [Link(kept, merged, check_mode(system)) for kept, merged, system in rows]

    def all_events(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT name, properties FROM events ORDER BY seq").fetchall()
        return [{"event": name, "properties": _json.loads(props)} for name, props in rows]

    def exposures(self) -> list[tuple[str, str, int, int]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT json_extract(properties, '$.\"Experiment name\"') AS experiment,"
                " json_extract(properties, '$.\"Variant name\"') AS variant,"
                " COUNT(*), COUNT(DISTINCT distinct_id) FROM events"
                " WHERE name = '$experiment_started' GROUP BY experiment, variant"
                " ORDER BY experiment, variant"
            ).fetchall()
        return [(str(exp), str(var), int(n), int(users)) for exp, var, n, users in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                table: int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("events", "profiles", "groups", "rejected")
            }

    def reset(self) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            for table in ("events", "profiles", "groups", "links", "rejected"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("COMMIT")
            self._seen.clear()
            self._links.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _dedup_key(insert_id: str, name: str, distinct_id: str, time_ms: int) -> int:
    return hash((insert_id, name, distinct_id, time_ms))
