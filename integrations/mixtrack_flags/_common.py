"""Pieces every adapter shares: a clear error for a missing extra, and an exposure hook."""

from __future__ import annotations

import importlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from types import ModuleType
from typing import Any

from mixtrack.exposure import EXPOSURE_EVENT, Tracker

logger = logging.getLogger("mixtrack.flags")

__all__ = ["ExposureHookTracker", "RecentUsers", "require", "statsig_user_fields", "variant_name"]


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
    ``Flag provider`` property has that value. An error in the hook is logged (logger
    ``mixtrack.flags``) and goes no further: the exposure was sent all the same.
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
        if not isinstance(experiment, str):
            return
        try:
            self.on_expose(distinct_id, experiment, properties)
        except Exception:
            # The exposure itself went out: failing here would make mixtrack release it
            # and send it again on the next render.
            logger.exception("exposure hook failed for %r in %r", distinct_id, experiment)

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


_USER_FIELDS = ("email", "ip", "country", "locale", "app_version", "user_agent")


def statsig_user_fields(distinct_id: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of a ``StatsigUser`` (both Statsig SDKs take the same ones).

    Statsig's own user fields (``email``, ``ip``, ``country``, ``locale``,
    ``app_version``, ``user_agent``, ``custom_ids``, ``private_attributes``) are taken
    from the attributes by name; everything else goes to ``custom``.

    >>> statsig_user_fields("u1", {"email": "a@b.c", "plan": "pro"})
    {'user_id': 'u1', 'email': 'a@b.c', 'custom': {'plan': 'pro'}}
    """
    fields: dict[str, Any] = {"user_id": distinct_id}
    custom: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in _USER_FIELDS or key in ("custom_ids", "private_attributes"):
            fields[key] = value
        else:
            custom[key] = value
    if custom:
        fields["custom"] = custom
    return fields


class RecentUsers:
    """The provider user last evaluated per (distinct_id, experiment), bounded, thread-safe.

    Render-time exposure hooks use it to log the provider's exposure with the same user
    the variant was evaluated for.
    """

    def __init__(self, max_size: int = 10_000) -> None:
        self.max_size = max_size
        self._users: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, distinct_id: str, experiment: str, user: Any) -> None:
        with self._lock:
            self._users[(distinct_id, experiment)] = user
            self._users.move_to_end((distinct_id, experiment))
            while len(self._users) > self.max_size:
                self._users.popitem(last=False)

    def get(self, distinct_id: str, experiment: str) -> Any:
        with self._lock:
            return self._users.get((distinct_id, experiment))
