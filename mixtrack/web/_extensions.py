"""Template helpers every adapter installs, and the hook that lets features add more.

A helper is ``helper(tracker, *args, **kwargs)``: each adapter's Jinja environment gets it
as a global that finds the request's tracker itself. A feature that needs an endpoint or a
helper in all three frameworks adds an :data:`Extension` to :data:`BUILTIN_EXTENSIONS`
(or calls ``install`` on one ``WebApp``); the adapters need no change.

>>> from mixtrack.testing import capture
>>> from mixtrack.web import WebApp
>>> sorted(WebApp(capture().client, secret="s").helpers)
['experiment', 'expose', 'exposure_attrs', 'mixtrack_script', 'track', 'track_on_render']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mixtrack.exposure import Variant

if TYPE_CHECKING:
    from mixtrack.web._runtime import WebApp
    from mixtrack.web._tracker import RequestTracker

__all__ = [
    "BUILTIN_EXTENSIONS",
    "Extension",
    "event_properties",
    "install_builtin",
    "plain_text",
    "serve_endpoint",
    "template_globals",
]

logger = logging.getLogger("mixtrack.web")

#: Something that adds endpoints and helpers to a :class:`~mixtrack.web.WebApp`.
Extension = Callable[["WebApp"], None]


def plain_text(value: Any) -> str:
    """A plain ``str`` (template literals are ``str`` subclasses such as ``SafeString``)."""
    return str.__str__(value) if isinstance(value, str) else str(value)


def event_properties(values: dict[str, Any]) -> dict[str, Any]:
    """Template values as event properties: a :class:`Variant` becomes its name."""
    return {
        name: (value.name if isinstance(value, Variant) else value)
        for name, value in values.items()
    }


def experiment(tracker: RequestTracker, name: str, **attributes: Any) -> Variant:
    """``experiment(name, **attributes)``: the visitor's variant, exposed as it renders."""
    return tracker.experiment(plain_text(name), attributes or None, where="experiment()")


def expose(tracker: RequestTracker, variant: Variant) -> str:
    """``expose(variant)``: mark a variant the view evaluated as shown; renders nothing."""
    if not isinstance(variant, Variant):
        raise TypeError(
            f"expose() takes a Variant (from the tracker's variant() or experiment()), "
            f"got {type(variant).__name__}"
        )
    tracker.expose(variant)
    return ""


def _track(source: str) -> Callable[..., str]:
    def track(tracker: RequestTracker, event: Any, **properties: Any) -> str:
        tracker.track_on_delivery(plain_text(event), event_properties(properties), source=source)
        return ""

    track.__doc__ = f"``{source}``: track an event when the page is delivered; renders nothing."
    return track


def _core(app: WebApp) -> None:
    app.helpers.update(
        experiment=experiment,
        expose=expose,
        track=_track("track()"),
        track_on_render=_track("track_on_render()"),
    )


#: Installed on every :class:`~mixtrack.web.WebApp`, in order.
def _visible(app: WebApp) -> None:
    from mixtrack.web._visible_app import install

    install(app)


BUILTIN_EXTENSIONS: list[Extension] = [_core, _visible]


def install_builtin(app: WebApp) -> None:
    """Install every extension of :data:`BUILTIN_EXTENSIONS` on ``app``."""
    for extension in BUILTIN_EXTENSIONS:
        extension(app)


def template_globals(
    app: WebApp,
    tracker_for: Callable[[Any], RequestTracker],
    mark: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> dict[str, Callable[..., Any]]:
    """The helpers as template globals: ``tracker_for(context)`` finds the request's
    tracker in a template context, and ``mark`` is the engine's decorator for functions
    that take the context first (Jinja's ``pass_context``).

    >>> import jinja2  # doctest: +SKIP
    >>> env.globals.update(template_globals(app, find, jinja2.pass_context))  # doctest: +SKIP
    """
    found: dict[str, Callable[..., Any]] = {}
    for name, helper in app.helpers.items():

        def bound(ctx: Any, *args: Any, _helper: Callable[..., Any] = helper, **kw: Any) -> Any:
            return _helper(tracker_for(ctx), *args, **kw)

        bound.__name__ = name
        bound.__doc__ = helper.__doc__
        found[name] = mark(bound)
    return found


def serve_endpoint(tracker: RequestTracker, handler: Callable[..., Any], body: bytes) -> Any:
    """Run an endpoint handler for ``tracker``'s request and settle the request like a page:
    commit below 400, discard otherwise (and when the handler raises, which re-raises)."""
    from mixtrack.web._runtime import EndpointResponse

    try:
        with tracker.bound():
            response: EndpointResponse = handler(tracker, body)
    except BaseException:
        tracker.discard()
        raise
    tracker.settle(response.status < 400)
    return response
