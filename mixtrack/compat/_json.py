"""JSON as mixpanel-python writes it, its exception and its service-account credentials."""

from __future__ import annotations

import datetime
import json
from typing import Any

__all__ = ["DatetimeSerializer", "MixpanelException", "ServiceAccountCredentials", "json_dumps"]


class DatetimeSerializer(json.JSONEncoder):
    """Writes ``datetime`` values as ``YYYY-MM-DDTHH:MM:SS`` (no zone, no fraction).

    >>> json_dumps({"at": datetime.datetime(2024, 5, 1, 12, 30)}, cls=DatetimeSerializer)
    '{"at":"2024-05-01T12:30:00"}'
    """

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return o.strftime("%Y-%m-%dT%H:%M:%S")
        return super().default(o)


def json_dumps(data: Any, cls: type[json.JSONEncoder] | None = None) -> str:
    """Compact JSON (no whitespace between items), with an optional encoder class.

    >>> json_dumps({"event": "Signed up", "properties": {"plan": "pro"}})
    '{"event":"Signed up","properties":{"plan":"pro"}}'
    """
    return json.dumps(data, separators=(",", ":"), cls=cls)


class MixpanelException(Exception):
    """Raised by consumers when a message could not be delivered or was refused.

    :class:`BufferedConsumer` sets ``message`` (the JSON batch) and ``endpoint`` on it.

    >>> try:
    ...     Consumer().send("nowhere", "{}")
    ... except MixpanelException as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    No such endpoint "nowhere"...
    """

    message: str
    endpoint: str


class ServiceAccountCredentials:
    """A Mixpanel service account: Basic-auth ``username:secret`` and ``?project_id=`` on
    ``/import`` (events, people and groups endpoints do not use it).

    >>> credentials = ServiceAccountCredentials("sa-user", "sa-secret", "123456")
    >>> credentials
    ServiceAccountCredentials(username='sa-user', project_id='123456', secret='***')
    """

    def __init__(self, username: str, secret: str, project_id: str) -> None:
        for name, value in (("username", username), ("secret", secret), ("project_id", project_id)):
            if not isinstance(value, str):
                raise TypeError(f"Service account {name} must be a string, got {value!r:.40}")
            if not value.strip():
                raise ValueError(f"Service account {name} cannot be empty")
        self.username = username.strip()
        self.secret = secret.strip()
        self.project_id = project_id.strip()

    def to_http_basic_auth(self) -> Any:
        """The credentials as a ``requests`` auth object."""
        from requests.auth import HTTPBasicAuth

        return HTTPBasicAuth(self.username, self.secret)

    def __repr__(self) -> str:
        return (
            f"ServiceAccountCredentials(username={self.username!r}, "
            f"project_id={self.project_id!r}, secret='***')"
        )
