"""``BackgroundConsumer``: the default consumer of the compatibility layer, on mixtrack's
non-blocking batching worker instead of one blocking request per call."""

from __future__ import annotations

import json
import threading
from typing import Any

from mixtrack._config import Config
from mixtrack._delivery.records import Route
from mixtrack.client import Client
from mixtrack.compat._consumers import ENDPOINTS, Consumer, base_url
from mixtrack.compat._json import MixpanelException
from mixtrack.errors import MixtrackError
from mixtrack.transport import Transport

__all__ = ["BackgroundConsumer"]

_ROUTES: dict[str, Route] = {
    "events": "track",
    "people": "engage",
    "groups": "groups",
    "imports": "import",
}


class BackgroundConsumer:
    """Queues each message and returns at once; a :class:`mixtrack.Client` batches, retries
    and delivers them in the background to the endpoints mixpanel-python would use.

    ``Mixpanel(token)`` without ``consumer=`` uses one. Options not given here come from the
    ``MIXTRACK_*`` environment variables (``MIXTRACK_API_HOST=http://127.0.0.1:8765`` points an
    unchanged app at a local collector), then from mixtrack's defaults; ``**options`` are
    :class:`mixtrack.Config` fields. ``client=`` hands over a ready client instead;
    ``transport=`` replaces the HTTP layer of the clients it makes (tests).

    >>> consumer = BackgroundConsumer(api_host="api-eu.mixpanel.com", flush_interval=2.0)
    >>> mp = Mixpanel("PROJECT_TOKEN", consumer=consumer)
    >>> mp.track("user-42", "Signed up")  # returns at once  # doctest: +SKIP
    >>> consumer.flush(timeout=5.0)  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        api_host: str | None = None,
        credentials: Any = None,
        *,
        client: Client | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> None:
        if api_host is not None:
            options["api_host"] = base_url(api_host)
        if credentials is not None:
            options["service_account"] = (credentials.username, credentials.secret)
            options["project_id"] = credentials.project_id
        self._options = options
        self._transport = transport
        self._lock = threading.Lock()
        # one client per /import secret; None: the project token (and every other endpoint)
        self._clients: dict[str | None, Client] = {}
        if client is not None:
            self._clients[None] = client

    def send(
        self, endpoint: str, json_message: str, api_key: Any = None, api_secret: Any = None
    ) -> None:
        """Queues one message (or a JSON array of them) for ``endpoint``; never blocks on I/O.

        >>> consumer.send("events", '{"event":"Signed up","properties":{"token":"t"}}')
        ... # doctest: +SKIP
        """
        route = _ROUTES.get(endpoint)
        if route is None:
            raise MixpanelException(
                f'No such endpoint "{endpoint}". Valid endpoints are one of {ENDPOINTS}'
            )
        if isinstance(api_key, tuple):
            api_key, api_secret = api_key
        try:
            doc = json.loads(json_message)
        except ValueError as exc:
            raise MixpanelException(f"message is not JSON: {exc}") from exc
        messages = doc if isinstance(doc, list) else [doc]
        secret = api_secret if route == "import" and api_secret else None
        try:
            client = self._client(secret, messages)
            for message in messages:
                client._put(route, message)
        except MixtrackError as exc:
            raise MixpanelException(str(exc)) from exc

    def _client(self, secret: str | None, messages: list[Any]) -> Client:
        client = self._clients.get(secret)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(secret)
            if client is None:
                options = dict(self._options)
                if secret is not None:
                    options["api_secret"] = secret
                if "token" not in options:
                    options["token"] = _token_of(messages)
                client = Client(config=Config.from_env(**options), transport=self._transport)
                self._clients[secret] = client
        return client

    @property
    def clients(self) -> list[Client]:
        """The mixtrack clients in use (one per ``/import`` secret), for ``stats()``."""
        return list(self._clients.values())

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until everything queued so far is delivered; False if ``timeout`` passed.

        >>> consumer.flush(timeout=5.0)  # doctest: +SKIP
        True
        """
        return all([client.flush(timeout) for client in self.clients])

    def shutdown(self, timeout: float | None = None) -> bool:
        """Delivers what is queued within ``timeout`` seconds and stops (also done at exit).

        >>> consumer.shutdown(timeout=5.0)  # doctest: +SKIP
        True
        """
        return all([client.shutdown(timeout) for client in self.clients])

    def _events_consumer(self) -> Consumer:
        """A synchronous Consumer for the same host (used by ``alias``)."""
        with self._lock:
            client = next(iter(self._clients.values()), None)
        config = (
            client.config if client is not None else Config.from_env(token="-", **self._options)
        )
        return Consumer(
            events_url=f"{config.api_host}/track",
            request_timeout=config.request_timeout,
            verify_cert=config.verify_tls,
        )


def _token_of(messages: list[Any]) -> str:
    for message in messages:
        if isinstance(message, dict):
            properties = message.get("properties")
            token = message.get("$token") or (
                properties.get("token") if isinstance(properties, dict) else None
            )
            if isinstance(token, str) and token:
                return token
    raise MixpanelException("message carries no project token ($token or properties.token)")
