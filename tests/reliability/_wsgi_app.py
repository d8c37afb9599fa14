"""A tiny WSGI app for ``gunicorn --preload``: one module-level client, created in the master
before the workers fork, tracking one event per request."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import mixtrack

client = mixtrack.Client.from_env(flush_interval=0.05)
# Tracked in the master, before the fork: it must arrive once, not once per worker.
client.track("master", "App loaded", {"pid": os.getpid()})


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    rid = parse_qs(environ.get("QUERY_STRING", "")).get("rid", ["?"])[0]
    client.track(f"visitor-{rid}", "Request served", {"rid": rid, "pid": os.getpid()})
    time.sleep(0.02)  # a little work, so that concurrent requests spread over the workers
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
