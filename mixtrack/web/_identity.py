"""Identity in Mixpanel's two ID-merge systems: what events carry, what login sends.

- ``"simplified"`` (the default of Mixpanel projects since 2023): the ``$device_id`` and
  ``$user_id`` event properties decide the identity. Anonymous events have distinct_id
  ``$device:<id>`` and ``$device_id``; after login they carry ``$user_id`` and the same
  ``$device_id``, with the user id as distinct_id. Login sends ``$identify`` with both ids,
  as mixpanel-browser does, so the merge does not wait for the next event.
- ``"original"``: ``$identify`` with ``$anon_id`` links the anonymous id to the user.

>>> event_identity("simplified", "d-1", None)
{'$device_id': 'd-1'}
>>> event_identity("simplified", "d-1", "user-42")
{'$device_id': 'd-1', '$user_id': 'user-42'}
>>> event_identity("original", "d-1", "user-42")
{}
"""

from __future__ import annotations

from typing import Any

from mixtrack import context
from mixtrack.exposure import Tracker
from mixtrack.web._settings import IdentityMode

__all__ = ["DEVICE_PREFIX", "anonymous_distinct_id", "event_identity", "send_identify"]

DEVICE_PREFIX = "$device:"


def anonymous_distinct_id(device_id: str) -> str:
    """The distinct_id of an anonymous visitor: ``$device:<device id>``.

    >>> anonymous_distinct_id("d-1")
    '$device:d-1'
    """
    return DEVICE_PREFIX + device_id


def event_identity(mode: IdentityMode, device_id: str, user_id: str | None) -> dict[str, Any]:
    """The identity properties of an event from this visitor in ``mode``.

    In the original system the distinct_id alone says who it is; the properties are left
    out, so a project's identity is decided by ``$identify`` alone.
    """
    if mode != "simplified":
        return {}
    props: dict[str, Any] = {"$device_id": device_id}
    if user_id is not None:
        props["$user_id"] = user_id
    return props


def send_identify(
    client: Tracker, mode: IdentityMode, device_id: str, user_id: str, **context_props: Any
) -> None:
    """Send the ``$identify`` that joins the visitor's device to ``user_id``.

    Both modes send ``client.identify(user_id, anon_id="$device:<id>")``: distinct_id the
    user id, ``$anon_distinct_id`` and ``$anon_id`` the device's distinct_id. Simplified adds
    ``$device_id`` and ``$user_id``, as mixpanel-browser's ``identify()`` does.
    """
    identify = getattr(client, "identify", None)
    if identify is None:
        return
    props = {**context_props, **event_identity(mode, device_id, user_id)}
    with context(**props):
        identify(user_id, anon_id=anonymous_distinct_id(device_id))
