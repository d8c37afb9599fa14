"""mixtrack for Flask: events in views, experiment exposure when the template renders.

>>> from flask import Flask
>>> import mixtrack_flask
>>> app = Flask(__name__)
>>> app.config.update(SECRET_KEY="dev", MIXTRACK_TOKEN="tok",
...                   MIXTRACK_API_HOST="http://127.0.0.1:8765",
...                   MIXTRACK_FLAGS={"checkout_redesign": {"control": 50, "treatment": 50}})
>>> mt = mixtrack_flask.Mixtrack(app)

In views, the helpers below use the current visitor's identity: the logged-in user (from
the identity loader, Flask-Login by default) or an anonymous id kept in a signed cookie::

    mixtrack_flask.track("Order completed", {"product": "pro", "revenue": 29.0})
    mixtrack_flask.identify(user.id)      # on login, without Flask-Login

In templates: ``{% set variant = experiment("checkout_redesign") %}``, ``{{ expose(variant)
}}``, ``{{ track("Viewed pricing", plan=plan) }}`` (``track_on_render`` is the same).

Outside a request (CLI commands, workers), ``mt.client_for(app)`` is the app's client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixtrack.exposure import Variant
from mixtrack_flask._config import CONFIG_KEYS
from mixtrack_flask._extension import Mixtrack
from mixtrack_flask._identity import flask_login_identity
from mixtrack_flask._state import MixtrackState, app_state, request_state

__all__ = [
    "CONFIG_KEYS",
    "Mixtrack",
    "MixtrackState",
    "app_state",
    "distinct_id",
    "flask_login_identity",
    "identify",
    "people_set",
    "reset",
    "track",
    "variant",
]


def track(
    event: str,
    properties: Mapping[str, Any] | None = None,
    *,
    time: Any = None,
    insert_id: str | None = None,
) -> None:
    """Track ``event`` for the current visitor now (``client.track`` with their id).

    >>> mixtrack_flask.track("Order completed", {"product": "pro", "revenue": 29.0})
    ... # doctest: +SKIP
    """
    request_state().track(event, properties, time=time, insert_id=insert_id)


def identify(user_id: str | int) -> bool:
    """The visitor logged in as ``user_id``: join their anonymous id to it.

    Sends ``$identify`` and links the ids for experiments (same variant, no second
    exposure). Flask-Login's login signal does this by itself; call it when you log users
    in another way, and return the same id from your identity loader afterwards. Returns
    True when an anonymous id was joined.

    >>> mixtrack_flask.identify(user.id)  # doctest: +SKIP
    True
    """
    return request_state().login(user_id)


def people_set(properties: Mapping[str, Any]) -> None:
    """Set profile properties of the current visitor (``$set``).

    >>> mixtrack_flask.people_set({"$name": "Ada", "plan": "pro"})  # doctest: +SKIP
    """
    request_state().people_set(properties)


def reset() -> None:
    """The visitor logged out: continue under a fresh anonymous id (Flask-Login's logout
    signal does this by itself)."""
    request_state().logout()


def variant(experiment: str, attributes: Mapping[str, Any] | None = None) -> Variant:
    """The current visitor's variant of ``experiment``; no exposure until it is shown.

    >>> layout = mixtrack_flask.variant("pricing_page_layout")  # doctest: +SKIP
    >>> layout.name  # reading it sends nothing  # doctest: +SKIP
    'grid'
    """
    return request_state().variant(experiment, attributes)


def distinct_id() -> str:
    """The current visitor's distinct_id (the user's id, or the anonymous id)."""
    return request_state().distinct_id
