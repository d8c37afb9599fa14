"""Pieces every adapter shares: a clear error for a missing extra, and an exposure hook."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime
from types import ModuleType
from typing import Any

from mixtrack.exposure import EXPOSURE_EVENT, Tracker

__all__ = ["ExposureHookTracker", "require"]


def require(module: str, *, package: str, extra: str | None = None) -> ModuleType:
    """Import a provider SDK, or say what to install (the mixtrack extra, if there is one).

    >>> require("json", package="json").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        install = f"mixtrack[{extra}]" if extra else package
        raise ImportError(
            f"this mixtrack_flags adapter needs the {package!r} package, which is not "
            f"installed: pip install '{install}'"
        ) from exc


ExposureCallback = Callable[[str, str, Mapping[str, Any]], None]
"""Called as ``callback(distinct_id, experiment, properties)`` after an exposure is sent."""


class ExposureHookTracker:
    """A :class:`~mixtrack.exposure.Tracker` that forwards every event to ``client`` and
    calls ``on_expose`` after each ``$experiment_started`` it forwards.

    :class:`~mixtrack.exposure.Experiments` sends an exposure once per person and
    experiment, when the variant is shown (on commit inside a request scope), so
    ``on_expose`` runs exactly then: the place to tell a provider that also wants to count
    exposures itself. ``only_provider`` limits the hook to exposures whose
    ``Flag provider`` property has that value. Errors in the hook are not the page's
    problem: they are logged by the caller's ``Experiments`` like any tracking error.
    Anything else (``flush``, ``shutdown``...) is read from ``client``.

    >>> tracker = ExposureHookTracker(client, flags.on_expose)  # doctest: +SKIP
    >>> experiments = Experiments(tracker, flags, ledger=MemoryLedger())  # doctest: +SKIP
    """

    def __init__(
        self,
        client: Tracker,
        on_expose: ExposureCallback,
        *,
        only_provider: str | None = None,
    ) -> None:
        self.client = client
        self.on_expose = on_expose
        self.only_provider = only_provider

    def track(
        self,
        distinct_id: str | None,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        time: datetime | float | None = None,
        insert_id: str | None = None,
    ) -> None:
        """Forward the event, then run the hook if it is an exposure."""
        self.client.track(distinct_id, event, properties, time=time, insert_id=insert_id)
        if event != EXPOSURE_EVENT or distinct_id is None or properties is None:
            return
        if self.only_provider is not None and (
            properties.get("Flag provider") != self.only_provider
        ):
            return
        experiment = properties.get("Experiment name")
        if isinstance(experiment, str):
            self.on_expose(distinct_id, experiment, properties)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def variant_name(value: Any) -> str | None:
    """A variant name from a provider value: strings as they are, booleans as ``on``/``off``.

    >>> variant_name("treatment"), variant_name(True), variant_name(None)
    ('treatment', 'on', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return None
