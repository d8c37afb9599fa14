"""``Mixtrack``: the Flask extension object (``Mixtrack(app)`` or ``init_app``)."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context

from mixtrack import Client
from mixtrack.exposure import Experiments, Ledger
from mixtrack.flags import FlagProvider
from mixtrack_flask import _jinja
from mixtrack_flask._cli import mixtrack_cli
from mixtrack_flask._config import (
    build_client,
    check_config,
    read_web_settings,
    resolve_flags,
    resolve_ledger,
)
from mixtrack_flask._identity import IdentityLoader, flask_login, flask_login_identity
from mixtrack_flask._state import EXTENSION_KEY, MixtrackState, app_state

__all__ = ["Mixtrack"]


class Mixtrack:
    """Product analytics and render-time experiment exposure for a Flask app.

    Arguments given here win over the app's config, which wins over ``MIXTRACK_*``
    environment variables:

    - ``client``: a :class:`mixtrack.Client` (default: one built from ``MIXTRACK_TOKEN`` and
      ``MIXTRACK_API_HOST``);
    - ``flags``: a flag provider or anything ``MIXTRACK_FLAGS`` accepts (a dict of
      experiments for :class:`~mixtrack.flags.StaticFlags`, a dotted path, a JSON/YAML file);
      without one, experiments are off;
    - ``ledger``: a :class:`~mixtrack.exposure.Ledger`, ``"memory"`` or ``"redis://..."``
      (``MIXTRACK_LEDGER``; Redis for several processes, as under gunicorn);
    - ``identity_loader``: returns the logged-in user's id, or None for an anonymous
      visitor (default: Flask-Login's ``current_user`` when it is set up).

    One object can serve several apps through :meth:`init_app`; each app gets its own
    client, ledger and experiments in ``app.extensions["mixtrack"]``.

    >>> app = Flask(__name__)
    >>> app.config.update(SECRET_KEY="dev", MIXTRACK_TOKEN="tok",
    ...                   MIXTRACK_FLAGS={"pricing_page_layout": {"grid": 50, "list": 50}})
    >>> mt = Mixtrack(app)
    >>> sorted(app.extensions["mixtrack"].flags.experiments)
    ['pricing_page_layout']
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        client: Client | None = None,
        flags: Any = None,
        ledger: Ledger | str | None = None,
        identity_loader: IdentityLoader | None = None,
    ) -> None:
        self._client = client
        self._flags = flags
        self._ledger = ledger
        self._identity_loader = identity_loader
        self._apps: list[MixtrackState] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the config, build the per-app state and hook into ``app``.

        Raises :class:`mixtrack.ConfigError` naming the key and value that cannot work,
        a missing ``SECRET_KEY`` (it signs the device-id cookie) and unknown ``MIXTRACK_*``
        keys included.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(f"mixtrack_flask is already set up on app {app.name!r}")
        config = app.config
        check_config(config)
        settings = read_web_settings(config)
        client = self._client if self._client is not None else build_client(config)
        flags: FlagProvider | None = resolve_flags(
            self._flags if self._flags is not None else config.get("MIXTRACK_FLAGS")
        )
        ledger = resolve_ledger(
            self._ledger if self._ledger is not None else config.get("MIXTRACK_LEDGER")
        )
        state = MixtrackState(
            app,
            client=client,
            flags=flags,
            ledger=ledger,
            settings=settings,
            identity_loader=self._identity_loader or flask_login_identity,
        )
        app.extensions[EXTENSION_KEY] = state
        self._apps.append(state)
        app.before_request(state.before_request)
        app.after_request(state.after_request)
        app.teardown_request(state.teardown_request)
        _jinja.register(app, state.web)
        app.cli.add_command(mixtrack_cli)
        if flask_login is not None:
            # Bound methods of the state, which the app keeps alive: blinker's weak
            # references then last exactly as long as the app.
            flask_login.user_logged_in.connect(state.on_login, sender=app)
            flask_login.user_logged_out.connect(state.on_logout, sender=app)

    def identity_loader(self, loader: IdentityLoader) -> IdentityLoader:
        """Decorator: set the function that returns the logged-in user's id (or None).

        >>> @mt.identity_loader  # doctest: +SKIP
        ... def current_user_id():
        ...     return session.get("user_id")
        """
        self._identity_loader = loader
        for state in self._apps:
            state.identity_loader = loader
        return loader

    @property
    def client(self) -> Client:
        """The :class:`mixtrack.Client`: the current app's, or outside any app context,
        the one app's this extension was set up on (see :meth:`client_for`).

        >>> mt.client.track("user-42", "Exported report")  # in a CLI command  # doctest: +SKIP
        """
        if has_app_context() or len(self._apps) != 1:
            return app_state().client
        return self._apps[0].client

    def client_for(self, app: Flask) -> Client:
        """``app``'s :class:`mixtrack.Client`, with or without an app context (scripts,
        workers, tests): events tracked with it carry no request context.

        >>> mt.client_for(app).track("user-42", "Invoice paid")  # doctest: +SKIP
        """
        return app_state(app).client

    @property
    def experiments(self) -> Experiments | None:
        """The current app's :class:`~mixtrack.exposure.Experiments` (None without flags)."""
        return app_state().experiments

    def __repr__(self) -> str:
        return f"<Mixtrack apps={[state.app_name for state in self._apps]!r}>"
