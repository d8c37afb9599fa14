"""Jinja globals: exposures and events happen when the template code that shows them renders.

.. code-block:: jinja

    {% set layout = experiment("pricing_page_layout") %}   {# the exposure, held #}
    {% if layout == "list" %} ... {% else %} ... {% endif %}
    {{ track("Viewed pricing", layout=layout.name) }}     {# or track_on_render(...) #}

A variant evaluated in the view (``mixtrack_flask.variant(...)``) is exposed by the
template with ``{{ expose(variant) }}``. All three render nothing themselves.
"""

from __future__ import annotations

from typing import Any

import jinja2
from flask import Flask

from mixtrack.web import RequestTracker, WebApp, template_globals
from mixtrack_flask._state import request_state

__all__ = ["register"]


def _tracker(context: Any) -> RequestTracker:
    return request_state()


def register(app: Flask, web: WebApp) -> None:
    """Make ``experiment``, ``expose``, ``track``/``track_on_render`` (and any helper other
    mixtrack features add) global in ``app``'s templates."""
    for name, function in template_globals(web, _tracker, jinja2.pass_context).items():
        app.add_template_global(function, name)
