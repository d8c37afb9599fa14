"""``Consumer`` and ``BufferedConsumer``: synchronous delivery through ``requests``, with the
URLs, form fields and authentication of mixpanel-python, so that tests written against it with
``responses`` keep passing. Retries work over ``http://`` as well as ``https://``.
"""

from __future__ import annotations

from typing import Any

from mixtrack.compat._json import MixpanelException

__all__ = ["BufferedConsumer", "Consumer"]

ENDPOINTS = ("events", "people", "groups", "imports")
_PATHS = {"events": "track", "people": "engage", "groups": "groups", "imports": "import"}
MAX_BATCH = 50  # mixpanel-python's largest buffered batch


def base_url(api_host: str) -> str:
    """``api.mixpanel.com`` -> ``https://api.mixpanel.com``; a URL is kept (plain http works)."""
    host = api_host.rstrip("/")
    return host if "://" in host else f"https://{host}"


class Consumer:
    """Sends each message at once, in its own request, and raises on failure.

    Arguments and their order are mixpanel-python's. ``api_host`` may also be a full URL
    (``http://127.0.0.1:8765``), which mixpanel-python does not accept.

    >>> consumer = Consumer(api_host="api-eu.mixpanel.com", retry_limit=2)
    >>> mp = Mixpanel("PROJECT_TOKEN", consumer=consumer)  # doctest: +SKIP
    >>> mp.track("user-42", "Signed up")  # one POST to https://api-eu.mixpanel.com/track
    ... # doctest: +SKIP
    """

    def __init__(
        self,
        events_url: str | None = None,
        people_url: str | None = None,
        import_url: str | None = None,
        request_timeout: float | None = None,
        groups_url: str | None = None,
        api_host: str = "api.mixpanel.com",
        retry_limit: int = 4,
        retry_backoff_factor: float = 0.25,
        verify_cert: bool = True,
        credentials: Any = None,
    ) -> None:
        import requests
        import requests.adapters
        import urllib3

        base = base_url(api_host)
        urls = {"events": events_url, "people": people_url, "groups": groups_url}
        urls["imports"] = import_url
        self._endpoints: dict[str, str] = {
            name: urls[name] or f"{base}/{_PATHS[name]}" for name in ENDPOINTS
        }
        self._verify_cert = verify_cert
        self._request_timeout = request_timeout
        self._credentials = credentials
        self._retry_limit = retry_limit
        self._retry_backoff_factor = retry_backoff_factor
        retry = urllib3.Retry(
            total=retry_limit,
            backoff_factor=retry_backoff_factor,
            status_forcelist=set(range(500, 600)),
            allowed_methods={"POST"},
        )
        adapter = requests.adapters.HTTPAdapter(max_retries=retry)
        self._session = requests.Session()
        # mounted for both schemes: a collector on plain http deserves retries too
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def send(
        self, endpoint: str, json_message: str, api_key: Any = None, api_secret: Any = None
    ) -> None:
        """Sends one message (or a JSON array of them) to ``endpoint``: ``"events"``,
        ``"people"``, ``"groups"`` or ``"imports"``. Raises :class:`MixpanelException` when
        the endpoint is unknown, the server unreachable, or the message refused.

        >>> Consumer().send("events", '{"event":"Signed up","properties":{}}')  # doctest: +SKIP
        """
        if endpoint not in self._endpoints:
            raise MixpanelException(
                f'No such endpoint "{endpoint}". Valid endpoints are one of '
                f"{self._endpoints.keys()}"
            )
        self._write_request(self._endpoints[endpoint], json_message, api_key, api_secret, endpoint)

    def _write_request(
        self,
        request_url: str,
        json_message: str,
        api_key: Any = None,
        api_secret: Any = None,
        endpoint: str | None = None,
    ) -> bool:
        from requests.auth import HTTPBasicAuth

        if isinstance(api_key, tuple):  # (api_key, api_secret), as import_data and merge pass
            api_key, api_secret = api_key
        params: dict[str, Any] = {"data": json_message, "verbose": 1, "ip": 0}
        auth: Any = None
        query: dict[str, str] = {}
        if self._credentials is not None and endpoint == "imports":
            auth = self._credentials.to_http_basic_auth()
            query["project_id"] = self._credentials.project_id
        elif api_secret is not None:
            auth = HTTPBasicAuth(api_secret, "")
            if api_key:
                params["api_key"] = api_key
        try:
            response = self._session.post(
                request_url,
                params=query,
                data=params,
                auth=auth,
                timeout=self._request_timeout,
                verify=self._verify_cert,
            )
        except Exception as exc:
            raise MixpanelException(exc) from exc
        try:
            answer = response.json()
        except ValueError:
            raise MixpanelException(
                f"Cannot interpret Mixpanel server response: {response.text}"
            ) from None
        if not isinstance(answer, dict) or answer.get("status") != 1:
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise MixpanelException(f"Mixpanel error: {error}")
        return True

    def _events_consumer(self) -> Consumer:
        """A plain Consumer for the same events URL and settings (used by ``alias``)."""
        return Consumer(
            events_url=self._endpoints["events"],
            request_timeout=self._request_timeout,
            retry_limit=self._retry_limit,
            retry_backoff_factor=self._retry_backoff_factor,
            verify_cert=self._verify_cert,
        )


class BufferedConsumer:
    """Holds messages per endpoint and sends them in batches of ``max_size`` (at most 50).

    Call :meth:`flush` before the program exits. A failed batch raises
    :class:`MixpanelException` with ``message`` (the batch) and ``endpoint`` set.

    >>> consumer = BufferedConsumer(max_size=20, api_host="api-eu.mixpanel.com")
    >>> mp = Mixpanel("PROJECT_TOKEN", consumer=consumer)  # doctest: +SKIP
    >>> consumer.flush()  # doctest: +SKIP
    """

    def __init__(
        self,
        max_size: int = 50,
        events_url: str | None = None,
        people_url: str | None = None,
        import_url: str | None = None,
        request_timeout: float | None = None,
        groups_url: str | None = None,
        api_host: str = "api.mixpanel.com",
        retry_limit: int = 4,
        retry_backoff_factor: float = 0.25,
        verify_cert: bool = True,
        credentials: Any = None,
    ) -> None:
        self._consumer = Consumer(
            events_url,
            people_url,
            import_url,
            request_timeout,
            groups_url,
            api_host,
            retry_limit,
            retry_backoff_factor,
            verify_cert,
            credentials,
        )
        self._buffers: dict[str, list[str]] = {name: [] for name in ENDPOINTS}
        self._max_size = min(MAX_BATCH, max_size)
        self._api_key: Any = None
        self._api_secret: Any = None

    def send(
        self, endpoint: str, json_message: str, api_key: Any = None, api_secret: Any = None
    ) -> None:
        """Buffers one message; sends the endpoint's buffer once it holds ``max_size``. The
        exception raised may come from a message buffered by an earlier call.

        >>> consumer.send("events", '{"event":"Signed up","properties":{}}')  # doctest: +SKIP
        """
        if endpoint not in self._buffers:
            raise MixpanelException(
                f'No such endpoint "{endpoint}". Valid endpoints are one of {self._buffers.keys()}'
            )
        if not isinstance(api_key, tuple):
            api_key = (api_key, api_secret)
        buffer = self._buffers[endpoint]
        buffer.append(json_message)
        self._api_key = api_key
        self._api_secret = api_secret
        if len(buffer) >= self._max_size:
            self._flush_endpoint(endpoint)

    def flush(self) -> None:
        """Sends every buffered message now.

        >>> consumer.flush()  # doctest: +SKIP
        """
        for endpoint in self._buffers:
            self._flush_endpoint(endpoint)

    def _flush_endpoint(self, endpoint: str) -> None:
        buffer = self._buffers[endpoint]
        while buffer:
            batch_json = "[{}]".format(",".join(buffer[: self._max_size]))
            try:
                self._consumer.send(endpoint, batch_json, api_key=self._api_key)
            except MixpanelException as exc:
                error = MixpanelException(exc)
                error.message = batch_json
                error.endpoint = endpoint
                raise error from exc
            buffer = buffer[self._max_size :]
            self._buffers[endpoint] = buffer
