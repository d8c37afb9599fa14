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

from mixtrack.web import template_globals
from mixtrack_django._runtime import get_mixtrack
from mixtrack_django.request import RequestTracker
from mixtrack_django.templatetags.mixtrack import tracker_for

__all__ = ["environment", "install"]


def _tracker(context: jinja2.runtime.Context) -> RequestTracker:
    return tracker_for(context, "mixtrack Jinja globals")


def install(env: jinja2.Environment) -> jinja2.Environment:
    """Add ``experiment``, ``expose``, ``track`` (and any helper other mixtrack features
    add) to ``env.globals``; returns ``env``.

    >>> env = install(jinja2.Environment())  # doctest: +SKIP
    """
    env.globals.update(
        template_globals(get_mixtrack().web, _tracker, jinja2.pass_context)  # type: ignore[arg-type]
    )
    return env


def environment(**options: Any) -> jinja2.Environment:
    """A Jinja2 environment with the mixtrack globals (for the backend's ``environment``)."""
    return install(jinja2.Environment(**options))
