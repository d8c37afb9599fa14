"""Jinja2 globals with the semantics of the template tags: ``experiment``, ``expose``, ``track``.

Use :func:`environment` as the ``environment`` option of Django's Jinja2 backend, or call
:func:`install` on your own environment::

    TEMPLATES = [{
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [...],
        "OPTIONS": {"environment": "mixtrack_django.jinja2.environment"},
    }]

and in a template::

    {% set layout = experiment("pricing_page_layout") %}   {# marks the exposure #}
    {% if layout == "list" %}…{% endif %}
    {{ track("Viewed pricing", layout=layout) }}             {# renders nothing #}

Django's Jinja2 backend puts ``request`` in the context; the functions read it there.
"""

from __future__ import annotations

from typing import Any

import jinja2
from django import template

from mixtrack.exposure import Variant
from mixtrack_django.templatetags.mixtrack import event_properties, plain_text, tracker_for

__all__ = ["environment", "install"]


@jinja2.pass_context
def experiment(context: jinja2.runtime.Context, name: str, **attributes: Any) -> Variant:
    """Evaluate ``name`` for the request's visitor and mark the exposure; returns the Variant."""
    variant = tracker_for(context, "experiment()").variant(name, attributes or None)
    variant.expose()
    return variant


def expose(variant: Variant) -> str:
    """Mark a variant computed in the view as shown; renders nothing."""
    if not isinstance(variant, Variant):
        raise template.TemplateSyntaxError(
            f"expose() needs a Variant (from request.mixtrack.variant), got {variant!r}"
        )
    variant.expose()
    return ""


@jinja2.pass_context
def track(context: jinja2.runtime.Context, event: str, **properties: Any) -> str:
    """Track ``event`` when the response is delivered; renders nothing."""
    tracker_for(context, "track()").track_on_delivery(
        plain_text(event), event_properties(properties)
    )
    return ""


def install(env: jinja2.Environment) -> jinja2.Environment:
    """Add ``experiment``, ``expose`` and ``track`` to ``env.globals``; returns ``env``.

    >>> env = install(jinja2.Environment())  # doctest: +SKIP
    """
    env.globals.update(experiment=experiment, expose=expose, track=track)
    return env


def environment(**options: Any) -> jinja2.Environment:
    """A Jinja2 environment with the mixtrack globals (for the backend's ``environment``)."""
    return install(jinja2.Environment(**options))
