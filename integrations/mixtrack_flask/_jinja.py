"""Jinja globals: exposures and events happen when the template code that shows them renders.

.. code-block:: jinja

    {% set layout = experiment("pricing_page_layout") %}   {# the exposure, held #}
    {% if layout == "list" %} ... {% else %} ... {% endif %}
    {{ track_on_render("Viewed pricing", layout=layout.name) }}

A variant evaluated in the view (``mixtrack_flask.variant(...)``) is exposed by the
template with ``{{ expose(variant) }}``. All three render nothing themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from mixtrack.exposure import Variant
from mixtrack_flask._state import request_state

__all__ = ["experiment", "expose", "register", "track_on_render"]


def experiment(name: str, **attributes: Any) -> Variant:
    """The visitor's variant of ``name``, exposed now (held until the page is delivered).

    Keyword arguments are targeting attributes for the flag provider.
    """
    variant = request_state().variant(name, attributes or None)
    variant.expose()
    return variant


def expose(variant: Variant) -> str:
    """Expose a variant the view evaluated; renders as an empty string."""
    if not isinstance(variant, Variant):
        raise TypeError(
            f"expose() takes a Variant (from mixtrack_flask.variant(...) or experiment(...)), "
            f"got {type(variant).__name__}"
        )
    variant.expose()
    return ""


def track_on_render(event: str, **properties: Any) -> str:
    """Track ``event`` for the visitor when the response is delivered; renders as ``""``."""
    request_state().track_on_render(event, properties)
    return ""


def register(app: Flask) -> None:
    """Make ``experiment``, ``expose`` and ``track_on_render`` global in ``app``'s templates."""
    app.add_template_global(experiment, "experiment")
    app.add_template_global(expose, "expose")
    app.add_template_global(track_on_render, "track_on_render")
