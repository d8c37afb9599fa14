"""The request machinery every framework integration shares; it imports no web framework.

Django, Flask and FastAPI adapters describe each request as a :class:`RequestInfo`, make
one :class:`RequestTracker` for it, and settle it when the response is delivered. Here
live, once, for all of them:

- the device-id cookie (name, lifetime, ``Secure``/``SameSite``, signature) and the
  anonymous distinct_id ``$device:<id>``;
- identity in Mixpanel's ``"simplified"`` (default) and ``"original"`` ID-merge systems;
- the visitor's context properties: ``ip`` (``X-Forwarded-For`` only through
  ``TRUSTED_PROXIES``), ``$browser``, ``$browser_version``, ``$os``, ``$device``,
  ``$current_url``, ``$referrer``, ``$referring_domain``, ``utm_*`` kept for the visit;
- the per-request variant cache, events and exposures held until delivery, commit/discard;
- the table of settings (:data:`OPTIONS`) and the template helpers (``experiment``,
  ``expose``, ``track``), plus endpoints and helpers that other features add.

>>> from mixtrack.testing import capture
>>> from mixtrack.web import RequestInfo, RequestTracker, WebApp
>>> captured = capture()
>>> app = WebApp(captured.client, secret="app-secret")
>>> tracker = RequestTracker(app, RequestInfo("GET", "https://shop.example/"))
>>> tracker.track("Viewed home")
>>> event = captured[0]["properties"]
>>> event["distinct_id"] == "$device:" + event["$device_id"], event["$current_url"]
(True, 'https://shop.example/')
"""

from mixtrack.web._cookie import CookieSigner, SetCookie, new_device_id
from mixtrack.web._extensions import (
    BUILTIN_EXTENSIONS,
    Extension,
    serve_endpoint,
    template_globals,
)
from mixtrack.web._identity import (
    DEVICE_PREFIX,
    anonymous_distinct_id,
    event_identity,
    send_identify,
)
from mixtrack.web._runtime import (
    MAX_ENDPOINT_BODY,
    Endpoint,
    EndpointResponse,
    Endpoints,
    WebApp,
    resolve_flags,
    resolve_ledger,
)
from mixtrack.web._settings import (
    CONTEXT_GROUPS,
    IDENTITY_MODES,
    OPTIONS,
    IdentityMode,
    Option,
    WebSettings,
    client_options,
    read_settings,
)
from mixtrack.web._tracker import RequestTracker
from mixtrack.web._traffic import TRAFFIC_KINDS, Traffic, TrafficKind, TrafficStats, classify
from mixtrack.web._visitor import (
    UTM_PARAMETERS,
    RequestInfo,
    client_address,
    context_properties,
    user_agent_properties,
    utm_parameters,
)

__all__ = [
    "BUILTIN_EXTENSIONS",
    "CONTEXT_GROUPS",
    "DEVICE_PREFIX",
    "IDENTITY_MODES",
    "MAX_ENDPOINT_BODY",
    "OPTIONS",
    "TRAFFIC_KINDS",
    "UTM_PARAMETERS",
    "CookieSigner",
    "Endpoint",
    "EndpointResponse",
    "Endpoints",
    "Extension",
    "IdentityMode",
    "Option",
    "RequestInfo",
    "RequestTracker",
    "SetCookie",
    "Traffic",
    "TrafficKind",
    "TrafficStats",
    "WebApp",
    "WebSettings",
    "anonymous_distinct_id",
    "classify",
    "client_address",
    "client_options",
    "context_properties",
    "event_identity",
    "new_device_id",
    "read_settings",
    "resolve_flags",
    "resolve_ledger",
    "send_identify",
    "serve_endpoint",
    "template_globals",
    "user_agent_properties",
    "utm_parameters",
]
