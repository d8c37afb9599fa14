"""Testing support: capture what your code emits, in memory or at a real local collector.

Usable without pytest; the pytest plugin (loaded automatically when mixtrack is installed)
adds the fixtures ``mixtrack_events``, ``mixtrack_collector`` and ``mixtrack_client``.

>>> from mixtrack.testing import InMemoryTransport
>>> transport = InMemoryTransport()
>>> client = mixtrack.Client("tok", transport=transport)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mixtrack.testing._memory import CapturedEvents, InMemoryTransport, decode_request

if TYPE_CHECKING:
    from mixtrack.testing._collector import Collector

__all__ = ["CapturedEvents", "Collector", "InMemoryTransport", "capture", "decode_request"]


def capture(token: str = "test-token", **options: object) -> CapturedEvents:
    """A client on an :class:`InMemoryTransport`, wrapped for assertions.

    The client is strict (``invalid="raise"``: a value that cannot be sent fails the test
    at the call) and reads no ``MIXTRACK_*`` variables, so a test behaves the same on every
    machine; keywords (any :class:`mixtrack.Config` field) change that.

    >>> events = capture()
    >>> events.client.track("user-42", "Signed up", {"plan": "pro"})
    >>> events.assert_tracked("Signed up", plan="pro") and None
    >>> bool(events.client.shutdown())
    True
    """
    from mixtrack._config import Config
    from mixtrack.client import Client

    transport = InMemoryTransport()
    config = Config(
        token=token, api_host="http://mixtrack.invalid", flush_interval=0.05, invalid="raise"
    )
    client = Client(config=config, transport=transport, **options)  # type: ignore[arg-type]
    return CapturedEvents(client, transport)


def __getattr__(name: str) -> Any:
    # The collector (HTTP server, SQLite store) loads on first use: every pytest session of a
    # project with mixtrack installed imports this module through the plugin.
    if name == "Collector":
        from mixtrack.testing._collector import Collector

        return Collector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
