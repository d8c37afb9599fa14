"""Mixpanel's ingestion endpoints and how each one takes its body.

>>> from mixtrack.protocol.routes import ROUTES, is_form_route
>>> ROUTES
('import', 'track', 'engage', 'groups')
>>> is_form_route("track"), is_form_route("import")
(True, False)
"""

from __future__ import annotations

from typing import Literal

__all__ = ["FORM_ROUTES", "ROUTES", "Route", "is_form_route"]

#: The endpoint a message goes to: ``/import`` (JSON body, Basic auth, any time after 1971),
#: ``/track`` (form body, recent events), ``/engage`` (user profiles), ``/groups``.
Route = Literal["import", "track", "engage", "groups"]
ROUTES: tuple[Route, ...] = ("import", "track", "engage", "groups")
#: Endpoints whose body is a form with a ``data=`` field (base64 JSON); ``/import`` takes JSON.
FORM_ROUTES: frozenset[Route] = frozenset({"track", "engage", "groups"})


def is_form_route(route: Route) -> bool:
    """True for the endpoints that take ``data=<base64 JSON>`` as a form."""
    return route in FORM_ROUTES
