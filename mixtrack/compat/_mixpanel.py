"""``Mixpanel``: mixpanel-python 5.x's client, message for message and call for call."""

from __future__ import annotations

import importlib
import json
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from mixtrack.compat._background import BackgroundConsumer
from mixtrack.compat._consumers import Consumer
from mixtrack.compat._json import DatetimeSerializer, MixpanelException, json_dumps

__all__ = ["API_VERSION", "Mixpanel"]

log = logging.getLogger("mixtrack.compat")

#: The mixpanel-python release whose API is mirrored; sent as ``$lib_version`` (with
#: ``mp_lib: "python"``) exactly as that library sends it, so reports do not change.
API_VERSION = "5.4.1"

Props = Mapping[str, Any]


class Mixpanel:
    """Drop-in for ``mixpanel.Mixpanel``: the same constructor, methods, argument orders and
    messages. Without ``consumer=``, messages go through a :class:`BackgroundConsumer`
    (batched, retried, never blocking); with one, it is called exactly as mixpanel-python
    calls it: ``consumer.send(endpoint, json_message)`` and, for ``import_data`` and
    ``merge``, ``consumer.send("imports", json_message, (api_key, api_secret))``.

    >>> from mixtrack.compat import Mixpanel
    >>> mp = Mixpanel("PROJECT_TOKEN")
    >>> mp.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP
    >>> mp.people_set("user-42", {"$email": "ada@example.com"})  # doctest: +SKIP

    ``local_flags_config`` / ``remote_flags_config`` start mixpanel-python's own feature-flag
    providers (the ``mixpanel`` package must be installed); their exposure events are tracked
    through this object.
    """

    def __init__(
        self,
        token: str,
        consumer: Any = None,
        serializer: type[json.JSONEncoder] = DatetimeSerializer,
        local_flags_config: Any = None,
        remote_flags_config: Any = None,
        credentials: Any = None,
    ) -> None:
        self._token = token
        self._credentials = credentials
        if consumer is not None and credentials is not None:
            log.warning(
                "credentials passed to Mixpanel() are ignored when a consumer is given; pass "
                "them to the consumer instead: Consumer(credentials=...)"
            )
        self._consumer = consumer or BackgroundConsumer(credentials=credentials)
        self._serializer = serializer
        self._local_flags_provider = self._flags(
            "local_feature_flags", "LocalFeatureFlagsProvider", local_flags_config
        )
        self._remote_flags_provider = self._flags(
            "remote_feature_flags", "RemoteFeatureFlagsProvider", remote_flags_config
        )

    def _flags(self, module: str, name: str, config: Any) -> Any:
        if not config:
            return None
        try:
            provider = getattr(importlib.import_module(f"mixpanel.flags.{module}"), name)
        except ImportError as exc:
            raise MixpanelException(
                "feature flags need mixpanel-python's providers: pip install mixpanel "
                "(or use mixtrack.flags)"
            ) from exc
        return provider(self._token, config, API_VERSION, self.track, self._credentials)

    # -- hooks that tests override --------------------------------------------------------

    def _now(self) -> float:
        return time.time()

    def _make_insert_id(self) -> str:
        return uuid.uuid4().hex

    @property
    def local_flags(self) -> Any:
        """The local feature-flags provider (needs ``local_flags_config``)."""
        if self._local_flags_provider is None:
            raise MixpanelException(
                "No local flags provider initialized. Pass local_flags_config to constructor."
            )
        return self._local_flags_provider

    @property
    def remote_flags(self) -> Any:
        """The remote feature-flags provider (needs ``remote_flags_config``)."""
        if self._remote_flags_provider is None:
            raise MixpanelException("No remote_flags_config was passed to the constructor")
        return self._remote_flags_provider

    # -- events ---------------------------------------------------------------------------

    def _event(self, distinct_id: Any, event_name: Any, time_: Any, properties: Any) -> Any:
        all_properties = {
            "token": self._token,
            "distinct_id": distinct_id,
            "time": time_,
            "$insert_id": self._make_insert_id(),
            "mp_lib": "python",
            "$lib_version": API_VERSION,
        }
        if properties:
            all_properties.update(properties)
        return {"event": event_name, "properties": all_properties}

    def _send(self, endpoint: str, message: Any, meta: Props | None, *auth: Any) -> None:
        if meta:
            message.update(meta)
        self._consumer.send(endpoint, json_dumps(message, cls=self._serializer), *auth)

    def track(
        self,
        distinct_id: Any,
        event_name: str,
        properties: Props | None = None,
        meta: Props | None = None,
    ) -> None:
        """Records an event; ``meta`` overrides top-level fields of the message.

        >>> mp.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP
        """
        self._send("events", self._event(distinct_id, event_name, self._now(), properties), meta)

    def import_data(
        self,
        api_key: Any,
        distinct_id: Any,
        event_name: str,
        timestamp: Any,
        properties: Props | None = None,
        meta: Props | None = None,
        api_secret: Any = None,
    ) -> None:
        """Records a past event through ``/import`` (``timestamp`` in epoch seconds).
        ``api_key`` and ``api_secret`` are legacy; prefer service-account ``credentials``.

        >>> mp.import_data(None, "user-42", "Purchased", 1700000000, {"sku": "A1"})
        ... # doctest: +SKIP
        """
        _warn_legacy(api_key, api_secret)
        message = self._event(distinct_id, event_name, timestamp, properties)
        self._send("imports", message, meta, (api_key, api_secret))

    def alias(self, alias_id: Any, original: Any, meta: Props | None = None) -> None:
        """Maps ``alias_id`` to ``original`` (``$create_alias``). Synchronous, as in
        mixpanel-python, but sent to the host of the configured consumer (mixpanel-python
        always uses its default host); a custom consumer is not called.

        >>> mp.alias("user-42", "anon-7f3")  # doctest: +SKIP
        """
        message: dict[str, Any] = {
            "event": "$create_alias",
            "properties": {"distinct_id": original, "alias": alias_id, "token": self._token},
        }
        if meta:
            message.update(meta)
        _alias_consumer(self._consumer).send("events", json_dumps(message, cls=self._serializer))

    def merge(
        self,
        api_key: Any,
        distinct_id1: Any,
        distinct_id2: Any,
        meta: Props | None = None,
        api_secret: Any = None,
    ) -> None:
        """Merges two distinct_ids (``$merge`` on ``/import``).

        >>> mp.merge(None, "user-42", "anon-7f3")  # doctest: +SKIP
        """
        _warn_legacy(api_key, api_secret)
        message = {
            "event": "$merge",
            "properties": {"$distinct_ids": [distinct_id1, distinct_id2], "token": self._token},
        }
        self._send("imports", message, meta, (api_key, api_secret))

    # -- people ---------------------------------------------------------------------------

    def _people(self, distinct_id: Any, operation: str, value: Any, meta: Any) -> None:
        self.people_update({"$distinct_id": distinct_id, operation: value}, meta=meta)

    def people_set(self, distinct_id: Any, properties: Props, meta: Props | None = None) -> None:
        """Sets profile properties (``$set``).

        >>> mp.people_set("user-42", {"$email": "ada@example.com"})  # doctest: +SKIP
        """
        self._people(distinct_id, "$set", properties, meta)

    def people_set_once(
        self, distinct_id: Any, properties: Props, meta: Props | None = None
    ) -> None:
        """Sets profile properties not set yet (``$set_once``)."""
        self._people(distinct_id, "$set_once", properties, meta)

    def people_increment(
        self, distinct_id: Any, properties: Props, meta: Props | None = None
    ) -> None:
        """Adds to numeric profile properties (``$add``)."""
        self._people(distinct_id, "$add", properties, meta)

    def people_append(self, distinct_id: Any, properties: Props, meta: Props | None = None) -> None:
        """Appends to list properties (``$append``)."""
        self._people(distinct_id, "$append", properties, meta)

    def people_union(self, distinct_id: Any, properties: Props, meta: Props | None = None) -> None:
        """Adds to list properties unless present (``$union``)."""
        self._people(distinct_id, "$union", properties, meta)

    def people_unset(
        self, distinct_id: Any, properties: Iterable[str], meta: Props | None = None
    ) -> None:
        """Removes properties, given their names (``$unset``)."""
        self._people(distinct_id, "$unset", properties, meta)

    def people_remove(self, distinct_id: Any, properties: Props, meta: Props | None = None) -> None:
        """Removes values from list properties (``$remove``)."""
        self._people(distinct_id, "$remove", properties, meta)

    def people_delete(self, distinct_id: Any, meta: Props | None = None) -> None:
        """Deletes a profile (``$delete``)."""
        self._people(distinct_id, "$delete", "", meta)

    def people_track_charge(
        self,
        distinct_id: Any,
        amount: float,
        properties: Props | None = None,
        meta: Props | None = None,
    ) -> None:
        """Records revenue: appends ``{..., "$amount": amount}`` to ``$transactions``.
        The caller's ``properties`` dict is left as it was.

        >>> mp.people_track_charge("user-42", 49.0, {"sku": "A1"})  # doctest: +SKIP
        """
        transaction = dict(properties or {})
        transaction["$amount"] = amount
        self.people_append(distinct_id, {"$transactions": transaction}, meta=meta)

    def people_clear_charges(self, distinct_id: Any, meta: Props | None = None) -> None:
        """Removes all recorded revenue (``$unset`` of ``$transactions``)."""
        self.people_unset(distinct_id, ["$transactions"], meta=meta)

    def people_update(self, message: Props, meta: Props | None = None) -> None:
        """Sends a profile update written by the caller (``$token`` and ``$time`` added).

        >>> mp.people_update({"$distinct_id": "user-42", "$set": {"plan": "pro"}})
        ... # doctest: +SKIP
        """
        record: dict[str, Any] = {"$token": self._token, "$time": self._now()}
        record.update(message)
        self._send("people", record, meta)

    # -- groups ---------------------------------------------------------------------------

    def _group(self, key: Any, group_id: Any, operation: str, value: Any, meta: Any) -> None:
        self.group_update({"$group_key": key, "$group_id": group_id, operation: value}, meta=meta)

    def group_set(
        self, group_key: str, group_id: Any, properties: Props, meta: Props | None = None
    ) -> None:
        """Sets group profile properties (``$set``).

        >>> mp.group_set("company", "acme", {"plan": "enterprise"})  # doctest: +SKIP
        """
        self._group(group_key, group_id, "$set", properties, meta)

    def group_set_once(
        self, group_key: str, group_id: Any, properties: Props, meta: Props | None = None
    ) -> None:
        """Sets group properties not set yet (``$set_once``)."""
        self._group(group_key, group_id, "$set_once", properties, meta)

    def group_union(
        self, group_key: str, group_id: Any, properties: Props, meta: Props | None = None
    ) -> None:
        """Adds to group list properties unless present (``$union``)."""
        self._group(group_key, group_id, "$union", properties, meta)

    def group_unset(
        self, group_key: str, group_id: Any, properties: Iterable[str], meta: Props | None = None
    ) -> None:
        """Removes group properties, given their names (``$unset``)."""
        self._group(group_key, group_id, "$unset", properties, meta)

    def group_remove(
        self, group_key: str, group_id: Any, properties: Props, meta: Props | None = None
    ) -> None:
        """Removes values from group list properties (``$remove``)."""
        self._group(group_key, group_id, "$remove", properties, meta)

    def group_delete(self, group_key: str, group_id: Any, meta: Props | None = None) -> None:
        """Deletes a group profile (``$delete``)."""
        self._group(group_key, group_id, "$delete", "", meta)

    def group_update(self, message: Props, meta: Props | None = None) -> None:
        """Sends a group update written by the caller (``$token`` and ``$time`` added).

        >>> mp.group_update({"$group_key": "company", "$group_id": "acme", "$set": {}})
        ... # doctest: +SKIP
        """
        record: dict[str, Any] = {"$token": self._token, "$time": self._now()}
        record.update(message)
        self._send("groups", record, meta)

    # -- context managers -----------------------------------------------------------------

    def __enter__(self) -> Mixpanel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for provider in (self._local_flags_provider, self._remote_flags_provider):
            if provider is not None:
                provider.__exit__(exc_type, exc, tb)
        if isinstance(self._consumer, BackgroundConsumer):
            self._consumer.flush()

    async def __aenter__(self) -> Mixpanel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for provider in (self._local_flags_provider, self._remote_flags_provider):
            if provider is not None:
                await provider.__aexit__(exc_type, exc, tb)


def _warn_legacy(api_key: Any, api_secret: Any) -> None:
    if api_secret is not None:
        log.warning("api_secret is deprecated: use ServiceAccountCredentials (credentials=...)")
    if api_key is not None:
        log.warning("api_key is deprecated: use ServiceAccountCredentials (credentials=...)")


def _alias_consumer(consumer: Any) -> Any:
    """A synchronous consumer to the events URL ``consumer`` sends to."""
    inner = getattr(consumer, "_consumer", consumer)  # a BufferedConsumer's own Consumer
    if isinstance(inner, (Consumer, BackgroundConsumer)):
        return inner._events_consumer()
    endpoints = getattr(inner, "_endpoints", None)  # mixpanel-python's consumers
    if isinstance(endpoints, dict) and isinstance(endpoints.get("events"), str):
        return Consumer(
            events_url=endpoints["events"],
            request_timeout=getattr(inner, "_request_timeout", None),
            verify_cert=getattr(inner, "_verify_cert", True),
        )
    return Consumer()
