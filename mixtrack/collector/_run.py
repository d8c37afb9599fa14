"""``mixtrack collector``: serve in the foreground until Ctrl-C or SIGTERM, losing nothing."""

from __future__ import annotations

import errno
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from secrets import token_urlsafe
from typing import Any, TextIO

from mixtrack.collector._access import is_loopback
from mixtrack.collector._app import CollectorApp
from mixtrack.collector._counting import CountingStore
from mixtrack.collector._limits import ServerLimits
from mixtrack.collector._server import CollectorServer
from mixtrack.collector._sqlite import SqliteStore
from mixtrack.collector._store import Store
from mixtrack.errors import PlanError


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    db: str = "mixtrack-collector.sqlite3",
    tokens: Iterable[str] = (),
    secrets: Iterable[str] = (),
    tls: bool = False,
    tls_dir: str | None = None,
    count_only: bool = False,
    identity: str = "simplified",
    project_id: str | None = None,
    limits: ServerLimits | None = None,
    plan: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run the collector until SIGINT or SIGTERM. Requests in progress finish first.

    Returns 0 after a clean stop, 1 when requests were still running at the deadline, and 2
    (after one line on ``err`` saying what to do) when the database cannot be opened or the
    address cannot be bound.
    """
    try:
        store: Store = CountingStore() if count_only else SqliteStore(db)
    except (sqlite3.Error, OSError) as exc:
        print(f"mixtrack collector: {_db_problem(db, exc)}", file=err, flush=True)
        return 2
    try:
        secrets = tuple(secrets)
        loopback = is_loopback(host)
        # Off this machine the query and control API is never open: without --secret it gets
        # a key of its own, printed below.
        access_key = None if loopback or secrets else token_urlsafe(18)
        app = CollectorApp(
            store,
            tokens=tokens,
            secrets=secrets,
            count_only=count_only,
            identity=identity,
            project_id=project_id,
            access_keys=(access_key,) if access_key else None,
            loopback=loopback,
            plan=plan,
        )
        context = None
        if tls:
            from mixtrack.collector._tls import local_tls

            directory = Path(tls_dir or tempfile.mkdtemp(prefix="mixtrack-tls-"))
            local = local_tls(directory)
            context = local.context
        server = CollectorServer(app, host, port, ssl_context=context, limits=limits)
    except OSError as exc:
        store.close()
        print(f"mixtrack collector: {_bind_problem(host, port, exc)}", file=err, flush=True)
        return 2
    except PlanError as exc:
        store.close()
        print(f"mixtrack collector: {exc}", file=err, flush=True)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        storage = "counting only, nothing stored" if count_only else f"store: {db}"
        print(f"mixtrack collector listening on {server.bound_url} ({storage})", file=out)
        print(f"live view: {server.live_url}", file=out)
        if not loopback:
            _warn_exposed(server.bound_url, access_key, err)
        if plan is not None:
            print(f"tracking plan: {plan} (events marked on or off plan)", file=out)
        if tls:
            print(f"TLS CA certificate: {local.ca_file}", file=out)
        out.flush()
        while not stop.wait(0.2):
            pass
        print("mixtrack collector: stopping", file=out, flush=True)
        drained = server.stop(timeout=10.0)
        counts = store.counts() if count_only else None
        summary = f" ({counts['events']} events counted)" if counts else ""
        print(f"mixtrack collector: stopped{summary}", file=out, flush=True)
        return 0 if drained else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _warn_exposed(url: str, access_key: str | None, err: TextIO) -> None:
    if access_key is None:
        print(
            f"mixtrack collector: {url} is reachable from other machines; the query API, "
            "live view and control endpoints need the --secret as Basic credentials",
            file=err,
            flush=True,
        )
        return
    print(
        f"mixtrack collector: WARNING: {url} is reachable from other machines and no --secret "
        "was given: anyone who can reach it can send events to /track, /engage, /groups and "
        "/import (with any token). The query API (/_mixtrack/...), the live view and the "
        "control endpoints (reset, faults) need this access key as the Basic user name: "
        f"{access_key}",
        file=err,
        flush=True,
    )


def _db_problem(db: str, exc: BaseException) -> str:
    path = Path(db)
    if path.is_dir():
        why = "it is a directory"
    elif not path.parent.is_dir():
        why = f"the folder {str(path.parent)!r} does not exist"
    elif path.is_file() and "not a database" in str(exc):
        why = "the file is not a SQLite database"
    else:
        why = str(exc)
    return (
        f"cannot open the database {db!r}: {why}; pass --db with the path of a new or "
        "existing collector database in a writable folder, or --db :memory:"
    )


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another mixtrack collector?): stop "
            "that process, or pass --port with another port (--port 0 picks a free one)"
        )
    if exc.errno == errno.EACCES:
        return (
            f"not allowed to listen on port {port}: ports below 1024 need root; pass "
            "--port 1024 or above"
        )
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return (
            f"cannot listen on {host}: {exc}; pass --host 127.0.0.1 or an address of this machine"
        )
    return f"cannot listen on {host}:{port}: {exc}; pass another --host or --port"
