"""Exposure when visible in every framework: the endpoints and template helpers of a WebApp.

Installed on each :class:`~mixtrack.web.WebApp` (it is one of the built-in extensions), so
Django, Flask and FastAPI all serve ``GET /_mixtrack/exposure.js`` and
``POST /_mixtrack/exposure`` and get the template helpers ``experiment(name,
expose="visible")``, ``exposure_attrs(variant)`` and ``mixtrack_script()``.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mixtrack.errors import ConfigError
from mixtrack.exposure import Render, Variant
from mixtrack.web._withheld import activation_attributes
from mixtrack.web._withheld import install as install_activation
from mixtrack.web.visible import ENDPOINT_PATH, SCRIPT_PATH, Beacon, VisibleExposure

if TYPE_CHECKING:
    from mixtrack.web._runtime import EndpointResponse, WebApp
    from mixtrack.web._tracker import RequestTracker

__all__ = ["Html", "experiment_visible", "install", "visible_of"]

EXPOSE_MODES = ("render", "visible")
# One per app, kept beside it rather than on it: the WebApp knows nothing of this feature.
_VISIBLE: weakref.WeakKeyDictionary[WebApp, VisibleExposure] = weakref.WeakKeyDictionary()
# Context properties that describe the beacon's own request, not the page that was seen.
_BEACON_ONLY = ("$referrer", "$referring_domain")


class Html(str):
    """Markup that template engines insert as it is (Jinja and Django read ``__html__``)."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def visible_of(app: WebApp) -> VisibleExposure:
    """The app's :class:`~mixtrack.web.visible.VisibleExposure` (a clear error without flags)."""
    visible = _VISIBLE.get(app)
    if visible is None:
        raise ConfigError(
            "exposure when visible needs experiments: no flag provider is configured; set "
            "FLAGS (Django MIXTRACK['FLAGS'], Flask MIXTRACK_FLAGS, FastAPI flags=)"
        )
    return visible


def check_mode(expose: object) -> str:
    """``expose=`` as given, or a clear error naming the two modes."""
    if expose not in EXPOSE_MODES:
        raise ValueError(f'expose must be "render" (the default) or "visible", got {expose!r}')
    return str(expose)


def experiment_visible(
    tracker: RequestTracker,
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    where: str = "experiment()",
) -> Variant:
    """The visitor's variant of ``name``, not exposed: its render is recorded instead.

    The exposure comes when the element marked with ``exposure_attrs(variant)`` is seen.
    """
    app = tracker.app
    visible = visible_of(app)
    if not tracker.traffic.person:
        # No render record either: it counts pages a person was shown and never saw.
        return tracker.variant(name, attributes)
    if app.knows_experiment(name) is False:
        app.warn_unknown_experiment(name, where)
    variant = tracker.variant(name, attributes)
    if variant.reason == "unknown experiment":
        app.warn_unknown_experiment(name, where)

    def send(render: Render) -> None:
        with tracker.sending():
            app.client.track(
                render.distinct_id,
                render.event,
                render.properties(),
                time=render.time,
                insert_id=render.insert_id,
            )

    visible.rendered(variant, tracker.scope, send)
    return variant


def _page_properties(tracker: RequestTracker) -> dict[str, Any]:
    """The visitor's properties, with the page that sent the beacon as ``$current_url``."""
    props = tracker.properties()
    for name in _BEACON_ONLY:
        props.pop(name, None)
    page = tracker.info.headers.get("referer")
    if page and urlsplit(page).netloc == urlsplit(tracker.info.url).netloc:
        props["$current_url"] = page
    else:
        props.pop("$current_url", None)
    return props


def install(app: WebApp) -> None:
    """Add the script, the endpoint and the template helpers to ``app``."""
    from mixtrack.web._extensions import plain_text
    from mixtrack.web._runtime import EndpointResponse

    experiments = app.experiments
    if experiments is not None:
        visible = VisibleExposure(experiments, app.secrets)
        _VISIBLE[app] = visible

        def script(tracker: RequestTracker, body: bytes) -> EndpointResponse:
            headers = visible.script_headers()
            if tracker.info.headers.get("if-none-match") == visible.script_etag:
                return EndpointResponse(304, b"", headers["Content-Type"], tuple(headers.items()))
            return EndpointResponse(200, visible.script, headers.pop("Content-Type"),
                                    tuple(headers.items()))  # fmt: skip

        def receive(tracker: RequestTracker, body: bytes) -> EndpointResponse:
            info = tracker.info
            headers = info.headers
            beacon = Beacon(
                info.method,
                body,
                headers.get("content-type"),
                tracker.identities(),
                host=headers.get("host") or urlsplit(info.url).netloc,
                origin=headers.get("origin"),
                fetch_site=headers.get("sec-fetch-site"),
                properties=_page_properties(tracker),
                # The person, not the cookie: a logged-in user who drops the anonymous
                # cookie keeps their bucket; an anonymous one without it has no token.
                rate_key=tracker.distinct_id,
            )
            answer = visible.receive(beacon)
            return EndpointResponse(answer.status, answer.content(), answer.content_type,
                                    tuple(answer.headers.items()))  # fmt: skip

        app.endpoints.add("GET", SCRIPT_PATH, script)
        app.endpoints.add("POST", ENDPOINT_PATH, receive)
        install_activation(app)

    core_experiment = app.helpers["experiment"]

    def experiment(
        tracker: RequestTracker, name: Any, *, expose: str = "render", **attributes: Any
    ) -> Variant:
        """``experiment(name, expose="visible")``: exposed when seen, not as it renders."""
        if check_mode(expose) == "render":
            return core_experiment(tracker, name, **attributes)  # type: ignore[no-any-return]
        return experiment_visible(tracker, plain_text(name), attributes or None)

    def exposure_attrs(tracker: RequestTracker, variant: Variant) -> Html:
        """``exposure_attrs(variant)``: ``data-mixtrack-exposure="<token>"`` for the element."""
        if not isinstance(variant, Variant):
            raise TypeError(
                f"exposure_attrs() takes a Variant (from experiment(...)), got "
                f"{type(variant).__name__}"
            )
        return Html(visible_of(tracker.app).attributes(variant))

    def mixtrack_script(
        tracker: RequestTracker, nonce: str | None = None, dwell: float | None = None
    ) -> Html:
        """``mixtrack_script(nonce=..., dwell=...)``: the exposure script's ``<script>`` tag.

        On a page loaded in the background it also carries the page's activation token.
        """
        extra = activation_attributes(tracker)
        return Html(visible_of(tracker.app).script_tag(nonce=nonce, dwell=dwell, extra=extra))

    app.helpers.update(
        experiment=experiment, exposure_attrs=exposure_attrs, mixtrack_script=mixtrack_script
    )
