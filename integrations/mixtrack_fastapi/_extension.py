"""``Mixtrack``: mixtrack for a FastAPI (or any Starlette) app, on :class:`mixtrack.AsyncClient`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from starlette.requests import HTTPConnection, Request

from mixtrack import AsyncClient, ConfigError
from mixtrack.exposure import Experiments
from mixtrack.web import (
    OPTIONS,
    RequestTracker,
    WebApp,
    read_settings,
    resolve_flags,
    resolve_ledger,
    template_globals,
)
from mixtrack.web import client_options as client_kwargs
from mixtrack_fastapi._middleware import STATE_KEY, MixtrackMiddleware

__all__ = ["Mixtrack", "get_tracker"]

_UNSET: Any = object()


def _where(key: str) -> str:
    return f"{key.lower()}="


def get_tracker(request: HTTPConnection) -> RequestTracker:
    """The request's :class:`~mixtrack.web.RequestTracker` (``request.state.mixtrack``).

    A FastAPI dependency::

        @app.post("/checkout")
        def checkout(mt: RequestTracker = Depends(mixtrack_fastapi.get_tracker)):
            mt.track("Order completed", {"revenue": 29.0})
    """
    tracker = request.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(tracker, RequestTracker):
        raise RuntimeError(
            "no request.state.mixtrack: set up mixtrack_fastapi.Mixtrack(app, ...) before "
            "the app serves requests"
        )
    return tracker


def _tracker_in(context: Any) -> RequestTracker:
    request = context.get("request")
    if not isinstance(request, HTTPConnection):
        raise RuntimeError(
            "mixtrack's template functions need the request in the template context: "
            "render with templates.TemplateResponse(request, name, context)"
        )
    return get_tracker(request)


class Mixtrack:
    """Product analytics and render-time experiment exposure for a FastAPI app.

    Adds a pure ASGI middleware (streamed responses work) on a :class:`mixtrack.AsyncClient`.
    Routes use ``request.state.mixtrack`` (or the :func:`get_tracker` dependency); templates
    rendered with ``templates=`` get ``experiment(name)``, ``expose(variant)`` and
    ``track(event, **props)``. Exposures are sent only when a non-error response has been
    delivered. Arguments as in the settings table (docs/fastapi.md); each may also come
    from the ``MIXTRACK_*`` environment variables the client reads.

    - ``secret_key`` signs the device-id cookie (default: ``MIXTRACK_SECRET_KEY``); required.
    - ``user_id``: ``callable(request) -> str | None``, the logged-in user's id.
    - ``mixpanel_browser=True`` writes mixpanel-browser's cookie on a first visit, so the
      browser library adopts the server's device id (docs/mixpanel-browser.md);
      ``crawler_patterns``, ``internal_networks``, ``crawler_events`` and ``respect_dnt``
      say which requests are not a person (docs/traffic.md).
    - ``client`` instead of ``token``/``api_host``: an :class:`mixtrack.AsyncClient` you own;
      ``client_options``: more :class:`mixtrack.Config` fields for the one made here.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> mt = Mixtrack(app, token="tok", api_host="http://127.0.0.1:8765", secret_key="dev",
    ...               flags={"pricing_page_layout": {"grid": 50, "list": 50}})
    >>> mt.web.settings.identity
    'simplified'
    """

    def __init__(
        self,
        app: Any,
        *,
        token: str | None = None,
        api_host: str | None = None,
        client: AsyncClient | None = None,
        flags: Any = None,
        ledger: Any = "memory",
        templates: Any = None,
        secret_key: str | None = None,
        user_id: Callable[[Request], str | int | None] | None = None,
        identity: str = "simplified",
        cookie_name: str = OPTIONS["COOKIE_NAME"].default,
        cookie_max_age: int = OPTIONS["COOKIE_MAX_AGE"].default,
        cookie_secure: bool | None = None,
        cookie_samesite: str | None = "Lax",
        context: Any = OPTIONS["CONTEXT"].default,
        trusted_proxies: Any = (),
        disabled: bool | None = None,
        invalid: str | None = None,
        client_options: Mapping[str, Any] | None = None,
        crawler_patterns: Any = (),
        internal_networks: Any = (),
        crawler_events: str = "drop",
        respect_dnt: bool = False,
        mixpanel_browser: bool = False,
        mixpanel_cookie_domain: str | None = None,
        mixpanel_cross_subdomain: bool = True,
    ) -> None:
        settings = read_settings(
            {
                "IDENTITY": identity,
                "COOKIE_NAME": cookie_name,
                "COOKIE_MAX_AGE": cookie_max_age,
                "COOKIE_SECURE": cookie_secure,
                "COOKIE_SAMESITE": cookie_samesite,
                "CONTEXT": context,
                "TRUSTED_PROXIES": trusted_proxies,
                "CRAWLER_PATTERNS": crawler_patterns,
                "INTERNAL_NETWORKS": internal_networks,
                "CRAWLER_EVENTS": crawler_events,
                "RESPECT_DNT": respect_dnt,
                "MIXPANEL_BROWSER": mixpanel_browser,
                "MIXPANEL_COOKIE_DOMAIN": mixpanel_cookie_domain,
                "MIXPANEL_CROSS_SUBDOMAIN": mixpanel_cross_subdomain,
            },
            where=_where,
        )
        secret = secret_key or os.environ.get("MIXTRACK_SECRET_KEY")
        if not secret:
            raise ConfigError(
                "mixtrack_fastapi signs the device-id cookie: pass secret_key= (a long random "
                "string kept secret) or set the MIXTRACK_SECRET_KEY environment variable"
            )
        self._owns_client = client is None
        if client is None:
            kwargs = client_kwargs(
                {"TOKEN": token, "API_HOST": api_host, "DISABLED": disabled, "INVALID": invalid},
                where=_where,
            )
            client = AsyncClient(**{**(client_options or {}), **kwargs})
        self.client = client
        self.user_loader = user_id
        self.web = WebApp(
            client,
            flags=resolve_flags(flags, where="flags="),
            ledger=resolve_ledger(ledger, where="ledger="),
            settings=settings,
            secret=secret,
        )
        if templates is not None:
            self.install_templates(templates)
        app.add_middleware(MixtrackMiddleware, mixtrack=self)

    @property
    def experiments(self) -> Experiments | None:
        """The app's :class:`~mixtrack.exposure.Experiments` (None without flags)."""
        return self.web.experiments

    def install_templates(self, templates: Any) -> None:
        """Add the template functions to a ``Jinja2Templates`` (or a Jinja environment)."""
        env = getattr(templates, "env", templates)
        if not isinstance(env, jinja2.Environment):
            raise ConfigError(
                f"templates= must be a starlette Jinja2Templates or a jinja2.Environment, "
                f"got {templates!r}"
            )
        env.globals.update(template_globals(self.web, _tracker_in, jinja2.pass_context))

    async def aclose(self, timeout: float = 5.0) -> None:
        """Deliver what is queued and close the client, if this object created it (the
        middleware calls it on lifespan shutdown)."""
        if self._owns_client:
            await self.client.aclose(timeout)

    def __repr__(self) -> str:
        return f"<mixtrack_fastapi.Mixtrack {self.web!r}>"
