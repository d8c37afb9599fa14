"""The libraries under test, each behind the same four calls: track, flush, shutdown, dropped.

Every library is pointed at the sink on 127.0.0.1 and otherwise keeps its defaults, except
that Segment's and PostHog's in-memory queues (10,000 events by default) are raised to the
event count of a throughput or latency run, so that they deliver every event rather than
dropping the excess; the memory and exit runs keep every default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

EVENT = "Bench event"
LIBRARIES = ("mixtrack", "mixpanel-consumer", "mixpanel-buffered", "segment", "posthog")
#: Library variants measured only where they matter (track() latency).
VARIANTS = ("mixtrack-spool",)

Track = Callable[[str, dict[str, Any]], None]


class Library:
    """One library, configured against the sink. ``track(distinct_id, properties)``."""

    name: str
    track: Track

    def flush(self, timeout: float) -> None:
        raise NotImplementedError

    def shutdown(self, timeout: float) -> None:
        raise NotImplementedError

    def dropped(self) -> int:
        """Events the library says it gave up on (where it says so)."""
        return 0

    def queued(self) -> int | None:
        """Events held in memory, waiting to be sent (None: the library holds none)."""
        return None

    def version(self) -> str:
        raise NotImplementedError


class Mixtrack(Library):
    def __init__(self, url: str, *, queue: int | None = None, spool_dir: str | None = None):
        import mixtrack

        self.name = "mixtrack-spool" if spool_dir else "mixtrack"
        options: dict[str, Any] = {"api_host": url}
        if spool_dir:
            options.update(spool_dir=spool_dir, spool_fsync="none")
        self.client = mixtrack.Client("BENCH", **options)
        client_track = self.client.track

        def track(distinct_id: str, properties: dict[str, Any]) -> None:
            client_track(distinct_id, EVENT, properties)

        self.track = track

    def flush(self, timeout: float) -> None:
        self.client.flush(timeout)

    def shutdown(self, timeout: float) -> None:
        self.client.shutdown(timeout)

    def dropped(self) -> int:
        return self.client.stats().dropped

    def queued(self) -> int | None:
        return self.client.stats().pending

    def version(self) -> str:
        import mixtrack

        return mixtrack.__version__


class Mixpanel(Library):
    """mixpanel-python: ``Consumer`` (one request per call, on the caller's thread) or
    ``BufferedConsumer`` (50 per request, sent on the caller's thread when full)."""

    def __init__(self, url: str, *, buffered: bool, queue: int | None = None):
        import mixpanel

        self.name = "mixpanel-buffered" if buffered else "mixpanel-consumer"
        urls = {
            "events_url": f"{url}/track",
            "people_url": f"{url}/engage",
            "groups_url": f"{url}/groups",
            "import_url": f"{url}/import",
        }
        consumer = mixpanel.BufferedConsumer(**urls) if buffered else mixpanel.Consumer(**urls)
        self.consumer = consumer
        self.mp = mixpanel.Mixpanel("BENCH", consumer=consumer)
        self.failed = 0
        mp_track = self.mp.track
        error = mixpanel.MixpanelException

        def track(distinct_id: str, properties: dict[str, Any]) -> None:
            try:
                mp_track(distinct_id, EVENT, properties)
            except error:  # what an app must do: a failed send raises in the caller
                self.failed += 1

        self.track = track

    def flush(self, timeout: float) -> None:
        flush = getattr(self.consumer, "flush", None)
        if flush is not None:
            try:
                flush()
            except Exception:
                self.failed += 1

    shutdown = flush

    def version(self) -> str:
        import mixpanel

        return str(mixpanel.__version__)


class Segment(Library):
    def __init__(self, url: str, *, queue: int | None = None):
        from segment.analytics import Client

        self.name = "segment"
        options: dict[str, Any] = {"host": url}
        if queue:
            options["max_queue_size"] = queue
        self.client = Client("BENCH", **options)
        logging.getLogger("segment").setLevel(logging.CRITICAL)
        client_track = self.client.track

        def track(distinct_id: str, properties: dict[str, Any]) -> None:
            client_track(distinct_id, EVENT, properties)

        self.track = track

    def flush(self, timeout: float) -> None:
        self.client.flush()

    def shutdown(self, timeout: float) -> None:
        self.client.shutdown()

    def queued(self) -> int | None:
        return int(self.client.queue.qsize())

    def version(self) -> str:
        from segment.analytics.version import VERSION

        return str(VERSION)


class PostHog(Library):
    def __init__(self, url: str, *, queue: int | None = None):
        from posthog import Posthog

        self.name = "posthog"
        options: dict[str, Any] = {"host": url}
        if queue:
            options["max_queue_size"] = queue
        self.client = Posthog("BENCH", **options)
        logging.getLogger("posthog").setLevel(logging.CRITICAL)
        capture = self.client.capture

        def track(distinct_id: str, properties: dict[str, Any]) -> None:
            capture(EVENT, distinct_id=distinct_id, properties=properties)

        self.track = track

    def flush(self, timeout: float) -> None:
        self.client.flush()

    def shutdown(self, timeout: float) -> None:
        self.client.shutdown()

    def queued(self) -> int | None:
        return int(self.client.queue.qsize())

    def version(self) -> str:
        from posthog.version import VERSION

        return str(VERSION)


def make(name: str, url: str, *, queue: int | None = None, spool_dir: str | None = None) -> Library:
    if name == "mixtrack":
        return Mixtrack(url, queue=queue)
    if name == "mixtrack-spool":
        return Mixtrack(url, queue=queue, spool_dir=spool_dir)
    if name in ("mixpanel-consumer", "mixpanel-buffered"):
        return Mixpanel(url, buffered=name == "mixpanel-buffered", queue=queue)
    if name == "segment":
        return Segment(url, queue=queue)
    if name == "posthog":
        return PostHog(url, queue=queue)
    raise ValueError(f"unknown library {name!r}; known: {LIBRARIES + VARIANTS}")
