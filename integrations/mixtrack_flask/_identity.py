"""Who the visitor is: a logged-in user from the identity loader, else an anonymous id
kept in a cookie signed with the app's secret key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeSerializer

from mixtrack import ConfigError

__all__ = [
    "AnonymousIds",
    "IdentityLoader",
    "flask_login",
    "flask_login_identity",
    "new_anonymous_id",
]

IdentityLoader = Callable[[], "str | int | None"]
"""Returns the logged-in user's distinct_id for the current request, or None."""

_SALT = "mixtrack-anonymous-id"

flask_login: Any
try:
    import flask_login  # type: ignore[import-untyped,no-redef]
except ImportError:  # Flask-Login is optional
    flask_login = None


def new_anonymous_id() -> str:
    """A fresh anonymous distinct_id: ``anon-`` and 32 random hex digits."""
    return "anon-" + uuid.uuid4().hex


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


class AnonymousIds:
    """Signs anonymous ids for the cookie and reads them back, refusing forged ones.

    The key is the app's ``SECRET_KEY`` (``SECRET_KEY_FALLBACKS`` still verify, so keys
    can be rotated), read on every use because apps often set it after ``init_app``.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app

    def _serializer(self) -> URLSafeSerializer:
        secret = self._app.secret_key
        if not secret:
            raise ConfigError(
                "mixtrack_flask signs the anonymous-id cookie with the app's secret key: "
                "set app.secret_key (SECRET_KEY) before serving requests"
            )
        fallbacks = list(self._app.config.get("SECRET_KEY_FALLBACKS") or ())
        # itsdangerous signs with the last key and verifies with all of them.
        return URLSafeSerializer([*fallbacks, secret], salt=_SALT)

    def dumps(self, anon_id: str) -> str:
        """The cookie value for ``anon_id``."""
        value = self._serializer().dumps(anon_id)
        return value if isinstance(value, str) else value.decode()

    def loads(self, cookie: str | None) -> str | None:
        """The anonymous id in ``cookie``, or None when missing, tampered with or malformed."""
        if not cookie:
            return None
        try:
            value = self._serializer().loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) and value else None
