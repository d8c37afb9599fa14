"""Template tags: the template that shows a variant is the one that marks it shown.

::

    {% load mixtrack %}
    {% experiment "pricing_page_layout" as layout %}
    {% if layout == "list" %}…list…{% else %}…grid…{% endif %}
    {% track "Viewed pricing" layout=layout %}

- ``{% experiment "name" [attr=value ...] as var %}`` evaluates the experiment for the
  request's visitor (attributes go to the flag provider for targeting), marks the exposure
  as the tag renders, and puts the :class:`~mixtrack.exposure.Variant` in ``var``. A
  template that raises later, or a 4xx/5xx response, sends no exposure.
- ``{% experiment "name" as var expose="visible" %}`` evaluates without exposing: the
  exposure comes when the element marked ``{% exposure_attrs var %}`` has been seen, as
  reported by the script of ``{% mixtrack_script %}`` (see "Exposure when visible").
- ``{% expose variant %}`` marks a variant computed in the view (``request.mixtrack.variant``).
- ``{% track "Event" prop=value ... %}`` tracks an event when this part renders; it is sent
  with the exposures, once the response is delivered.

The tags need the request in the context (``django.template.context_processors.request``,
or ``render(request, ...)``) and ``MixtrackMiddleware``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context

from mixtrack.exposure import Variant
from mixtrack.web._visible_app import Html, check_mode, experiment_visible, visible_of
from mixtrack_django.request import RequestTracker

__all__ = [
    "event_properties",
    "experiment",
    "expose",
    "exposure_attrs",
    "mixtrack_script",
    "plain_text",
    "track",
    "tracker_for",
]

register = template.Library()
_WHERE = "{% experiment %}"


def tracker_for(context: Context | dict[str, Any], tag: str) -> RequestTracker:
    """The ``request.mixtrack`` of the request being rendered; a clear error without one."""
    request = getattr(context, "request", None) or context.get("request")
    if request is None:
        raise template.TemplateSyntaxError(
            f"{{% {tag} %}} needs the request in the template context: add "
            "'django.template.context_processors.request' to the template OPTIONS "
            "'context_processors', or render with render(request, ...)"
        )
    tracker = getattr(request, "mixtrack", None)
    if not isinstance(tracker, RequestTracker):
        raise template.TemplateSyntaxError(
            f"{{% {tag} %}} needs request.mixtrack: add "
            "'mixtrack_django.middleware.MixtrackMiddleware' to MIDDLEWARE"
        )
    return tracker


def plain_text(value: Any) -> str:
    """A plain ``str``: template literals are ``SafeString``, which event names may not be."""
    return str.__str__(value) if isinstance(value, str) else str(value)


def event_properties(values: dict[str, Any]) -> dict[str, Any]:
    """Template values as event properties: a Variant becomes its name."""
    return {
        name: (value.name if isinstance(value, Variant) else value)
        for name, value in values.items()
    }


def _keywords(parser: Parser, bits: list[str], tag: str) -> dict[str, FilterExpression]:
    kwargs = template.base.token_kwargs(bits, parser, support_legacy=False)
    if bits:
        raise template.TemplateSyntaxError(
            f"{{% {tag} %}}: cannot read {' '.join(bits)!r}; write name=value pairs"
        )
    return kwargs


class ExperimentNode(template.Node):
    def __init__(
        self,
        name: FilterExpression,
        attributes: dict[str, FilterExpression],
        target: str,
    ) -> None:
        self.name = name
        self.attributes = attributes
        self.target = target

    def render(self, context: Context) -> str:
        tracker = tracker_for(context, "experiment")
        attributes = {key: value.resolve(context) for key, value in self.attributes.items()}
        name = plain_text(self.name.resolve(context))
        if check_mode(attributes.pop("expose", "render")) == "visible":
            variant = experiment_visible(tracker, name, attributes or None, where=_WHERE)
        else:
            variant = tracker.experiment(name, attributes or None, where=_WHERE)
        context[self.target] = variant
        return ""


@register.tag
def experiment(parser: Parser, token: Token) -> ExperimentNode:
    """``{% experiment "name" [attr=value ...] as variant %}``: evaluate, and mark shown."""
    bits = token.split_contents()
    # expose="visible" may also follow "as variant", where it reads best.
    tail = [bit for bit in bits[2:] if bit.startswith("expose=")]
    bits = [bit for bit in bits if not bit.startswith("expose=")]
    if len(bits) < 4 or bits[-2] != "as":
        raise template.TemplateSyntaxError(
            f'{bits[0]} tag: write {{% {bits[0]} "experiment_name" as variant %}}, '
            f"got {{% {token.contents} %}}"
        )
    name = parser.compile_filter(bits[1])
    attributes = _keywords(parser, bits[2:-2] + tail, bits[0])
    return ExperimentNode(name, attributes, bits[-1])


class ExposeNode(template.Node):
    def __init__(self, variant: FilterExpression) -> None:
        self.variant = variant

    def render(self, context: Context) -> str:
        variant = self.variant.resolve(context)
        if not isinstance(variant, Variant):
            raise template.TemplateSyntaxError(
                f"{{% expose %}} needs a Variant (from request.mixtrack.variant), got {variant!r}"
            )
        variant.expose()
        return ""


@register.tag
def expose(parser: Parser, token: Token) -> ExposeNode:
    """``{% expose variant %}``: mark a variant from the view as shown here."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(
            f"{bits[0]} tag: write {{% {bits[0]} variant %}}, got {{% {token.contents} %}}"
        )
    return ExposeNode(parser.compile_filter(bits[1]))


class TrackNode(template.Node):
    def __init__(self, event: FilterExpression, properties: dict[str, FilterExpression]) -> None:
        self.event = event
        self.properties = properties

    def render(self, context: Context) -> str:
        tracker = tracker_for(context, "track")
        values = {key: value.resolve(context) for key, value in self.properties.items()}
        tracker.track_on_delivery(
            plain_text(self.event.resolve(context)), event_properties(values), source="{% track %}"
        )
        return ""


@register.tag
def track(parser: Parser, token: Token) -> TrackNode:
    """``{% track "Event" prop=value ... %}``: an event sent when the page is delivered."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f'{bits[0]} tag: write {{% {bits[0]} "Event name" prop=value %}}'
        )
    return TrackNode(parser.compile_filter(bits[1]), _keywords(parser, bits[2:], bits[0]))


@register.simple_tag(takes_context=True)
def exposure_attrs(context: Context, variant: Any) -> Html:
    """``{% exposure_attrs variant %}``: ``data-mixtrack-exposure="<token>"`` for the element
    showing a variant from ``{% experiment ... expose="visible" %}``."""
    if not isinstance(variant, Variant):
        raise template.TemplateSyntaxError(
            f"{{% exposure_attrs %}} needs a Variant (from {{% experiment %}}), got {variant!r}"
        )
    return Html(visible_of(tracker_for(context, "exposure_attrs").app).attributes(variant))


@register.simple_tag(takes_context=True)
def mixtrack_script(context: Context, nonce: str | None = None, dwell: float | None = None) -> Html:
    """``{% mixtrack_script [nonce=request.csp_nonce] [dwell=0.5] %}``: the exposure script
    (on a page loaded in the background, with the page's activation token)."""
    tracker = tracker_for(context, "mixtrack_script")
    return Html(tracker.app.helpers["mixtrack_script"](tracker, nonce=nonce, dwell=dwell))
