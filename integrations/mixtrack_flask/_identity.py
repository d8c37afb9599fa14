"""Who the visitor is: a logged-in user from the identity loader, else the device id kept
in a cookie signed with the app's secret key (see :mod:`mixtrack.web`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from mixtrack.web import anonymous_distinct_id, new_device_id

__all__ = [
    "IdentityLoader",
    "flask_login",
    "flask_login_identity",
    "new_anonymous_id",
]

IdentityLoader = Callable[[], "str | int | None"]
"""Returns the logged-in user's distinct_id for the current request, or None."""

flask_login: Any
try:
    import flask_login  # type: ignore[import-untyped,no-redef]
except ImportError:  # Flask-Login is optional
    flask_login = None


def new_anonymous_id() -> str:
    """A fresh anonymous distinct_id: ``$device:<uuid>``, as in every mixtrack framework."""
    return anonymous_distinct_id(new_device_id())


def flask_login_identity() -> str | None:
    """The default loader: Flask-Login's ``current_user.get_id()`` when authenticated.

    Returns None when Flask-Login is not installed or not set up on this app.
    """
    if flask_login is None or getattr(current_app, "login_manager", None) is None:
        return None
    user: Any = flask_login.current_user
    if user is None or not user.is_authenticated:
        return None
    user_id = user.get_id()
    return None if user_id is None else str(user_id)
