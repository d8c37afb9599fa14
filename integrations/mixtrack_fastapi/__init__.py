"""mixtrack for FastAPI and Starlette: events in routes, exposure when the template renders.

>>> from fastapi import FastAPI, Request
>>> from fastapi.templating import Jinja2Templates
>>> import mixtrack_fastapi
>>> app = FastAPI()
>>> templates = Jinja2Templates(directory="templates")
>>> mt = mixtrack_fastapi.Mixtrack(
...     app, token="PROJECT_TOKEN", api_host="http://127.0.0.1:8765", secret_key="dev",
...     flags={"pricing_page_layout": {"grid": 50, "list": 50}}, templates=templates)

In routes, ``request.state.mixtrack`` (or a parameter typed ``mixtrack_fastapi.CurrentTracker``,
the dependency) is the visitor's :class:`mixtrack.web.RequestTracker`::

    request.state.mixtrack.track("Order completed", {"revenue": 29.0})
    request.state.mixtrack.login(user.id)       # on login: $identify, same variants

In templates: ``{% set layout = experiment("pricing_page_layout") %}``. See docs/fastapi.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mixtrack.web import RequestTracker
from mixtrack_fastapi._extension import Mixtrack, get_tracker
from mixtrack_fastapi._middleware import MixtrackMiddleware

CurrentTracker = Annotated[RequestTracker, Depends(get_tracker)]
"""The request's tracker as a FastAPI dependency: ``def route(mt: CurrentTracker): ...``."""

__all__ = ["CurrentTracker", "Mixtrack", "MixtrackMiddleware", "RequestTracker", "get_tracker"]
