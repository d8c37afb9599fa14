"""``mixtrack collector``: serve in the foreground until Ctrl-C or SIGTERM, losing nothing."""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from mixtrack.collector._app import CollectorApp
from mixtrack.collector._counting import CountingStore
from mixtrack.collector._server import CollectorServer
from mixtrack.collector._sqlite import SqliteStore
from mixtrack.collector._store import Store


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
    out: TextIO = sys.stdout,
) -> int:
    """Run the collector until SIGINT or SIGTERM. Requests in progress finish first."""
    store: Store = CountingStore() if count_only else SqliteStore(db)
    app = CollectorApp(store, tokens=tokens, secrets=secrets, count_only=count_only)
    context = None
    if tls:
        from mixtrack.collector._tls import local_tls

        directory = Path(tls_dir or tempfile.mkdtemp(prefix="mixtrack-tls-"))
        local = local_tls(directory)
        context = local.context
    server = CollectorServer(app, host, port, ssl_context=context)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        storage = "counting only, nothing stored" if count_only else f"store: {db}"
        print(f"mixtrack collector listening on {server.url} ({storage})", file=out)
        print(f"live view: {server.live_url}", file=out)
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
