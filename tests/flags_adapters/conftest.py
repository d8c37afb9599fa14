"""Fixtures for the provider adapters: a network guard and a real client in memory.

Every test here runs a provider's real SDK in its offline or test-data mode. The guard
fails the test if anything in this process tries to connect anywhere but this machine.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mixtrack.testing import CapturedEvents, capture

_LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class NetworkGuard:
    """Refuses, and remembers, every connection to anything but the loopback address."""

    def __init__(self) -> None:
        self.blocked: list[Any] = []
        self._lock = threading.Lock()

    def check(self, address: Any) -> None:
        if isinstance(address, (str, bytes)):  # AF_UNIX
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if host in _LOCAL_HOSTS:
            return
        with self._lock:
            self.blocked.append(address)
        raise OSError(f"network guard: outbound connection to {address!r} refused in tests")


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    guard = NetworkGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        guard.check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check(address)
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield guard
    assert not guard.blocked, f"tried to reach the network: {guard.blocked}"


@pytest.fixture
def events() -> Iterator[CapturedEvents]:
    """A real mixtrack.Client on an InMemoryTransport."""
    captured = capture()
    yield captured
    captured.client.shutdown(timeout=5.0)
