"""What the thread and asyncio clients share about their life in a process: building the
configuration and the process-wide hooks (a forked child
gets fresh state; the interpreter's exit drains every live client within its budget)."""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from typing import Any, Protocol

import attrs

from mixtrack._config import Config
from mixtrack._hints import check_options

__all__ = ["ProcessBound", "build_config", "register"]

log = logging.getLogger("mixtrack")


def build_config(
    token: str | None, config: Config | None, options: dict[str, Any], where: str = "Client()"
) -> Config:
    """``Client(token, **options)``: arguments, then ``MIXTRACK_*``, then defaults.
    ``Client(config=...)`` takes the config as it is (keywords next to it still win)."""
    check_options(options, [field.name for field in attrs.fields(Config)], where)
    if config is None:
        if token is not None:
            options = {**options, "token": token}
        return Config.from_env(**options)
    if token is None and not options:
        return config
    changes = dict(options)
    if token is not None:
        changes["token"] = token
    return attrs.evolve(config, **changes)


class ProcessBound(Protocol):
    def _after_fork_in_child(self) -> None: ...

    def _drain_at_exit(self) -> None: ...


_live: weakref.WeakSet[Any] = weakref.WeakSet()


def register(client: ProcessBound) -> None:
    """Puts a client under the fork and exit hooks for as long as it lives."""
    _live.add(client)


def _after_fork_in_child() -> None:
    for client in list(_live):
        client._after_fork_in_child()


def _drain_all() -> None:
    for client in list(_live):
        try:
            client._drain_at_exit()
        except Exception:  # never let one client's trouble stop the others or the exit
            log.exception("error draining a client at exit")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_drain_all)
