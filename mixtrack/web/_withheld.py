"""What a request that is not a person does with its events, and pages shown after a
background load.

- A crawler's request events are dropped (``CRAWLER_EVENTS = "drop"``, the default) or sent
  with ``$ignore: true`` (``"ignore"``); an opted-out visitor's are dropped. Both are counted
  in :meth:`~mixtrack.web.WebApp.traffic_stats`.
- A page loaded in the background (prefetch, prerender, preview) exposes nothing while it
  renders. The variants it rendered and the events tracked for it are kept in the app's
  ledger under a page id, and ``mixtrack_script()`` puts a signed activation token for that
  page id on its ``<script>`` tag. When the page is really shown (``document.prerendering``
  turns false, or the prefetched page is navigated to and its scripts run), the script posts
  the token to ``POST /_mixtrack/activate``, which sends the exposures and the events, once.
  A page that is never shown sends nothing; its entry expires with the ledger's TTL.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mixtrack import context
from mixtrack.errors import ValidationError
from mixtrack.exposure import TokenError

if TYPE_CHECKING:
    from mixtrack.web._runtime import EndpointResponse, WebApp
    from mixtrack.web._tracker import RequestTracker

__all__ = [
    "ACTIVATE_PATH",
    "ACTIVATION",
    "HeldEvent",
    "activation_attributes",
    "install",
    "keep_for_activation",
    "withheld_properties",
]

logger = logging.getLogger("mixtrack.web")

ACTIVATE_PATH = "/_mixtrack/activate"
"""Where the script reports that a background-loaded page is now shown (``POST``)."""
#: The "experiment" an activation token names; its "variant" is the page id.
ACTIVATION = "$page_activation"
_MAX_KEPT = 64 * 1024  # a page's kept variants and events; more is not one page's worth


@attrs.frozen
class HeldEvent:
    """An event tracked for a request, waiting for its delivery or its activation."""

    distinct_id: str
    event: str
    properties: dict[str, Any]
    time: float
    source: str
    insert_id: str | None = None


def withheld_properties(
    tracker: RequestTracker,
    event: str,
    properties: Mapping[str, Any] | None,
    insert_id: str | None,
) -> dict[str, Any] | None:
    """The properties to send ``event`` with for a request that is not a person, or None
    when it is not sent now (dropped, or kept for the page's activation)."""
    app = tracker.app
    kind = tracker.traffic.kind
    if kind == "crawler" and app.settings.crawler_events == "ignore":
        app.traffic.add("events_ignored")
        return {**(properties or {}), "$ignore": True}
    if kind == "speculative":
        tracker.deferred.append(
            HeldEvent(
                tracker.distinct_id,
                event,
                {**tracker.properties(), **(properties or {})},
                time.time(),
                "track()",
                insert_id or str(uuid.uuid4()),
            )
        )
        app.traffic.add("events_deferred")
        return None
    app.traffic.add("events_dropped")
    return None


def _page_key(page_id: str) -> str:
    return "a:" + page_id


def page_id(tracker: RequestTracker) -> str:
    """The id under which a background-loaded page keeps what it withheld (made once)."""
    found: str | None = getattr(tracker, "_page_id", None)
    if found is None:
        found = os.urandom(16).hex()
        tracker._page_id = found  # type: ignore[attr-defined]
    return found


def activation_attributes(tracker: RequestTracker) -> dict[str, str]:
    """``data-*`` attributes for the script tag of a background-loaded page (else none)."""
    tracker.script_on_page = True
    if tracker.traffic.kind != "speculative":
        return {}
    from mixtrack.web._visible_app import visible_of

    token = visible_of(tracker.app).tokens.issue(tracker.distinct_id, ACTIVATION, page_id(tracker))
    return {"data-activation": token, "data-activate-endpoint": ACTIVATE_PATH}


def keep_for_activation(tracker: RequestTracker) -> None:
    """The background-loaded page was delivered: keep what it withheld for its activation."""
    app = tracker.app
    variants = tracker.scope.kept if tracker.scope is not None else ()
    events = tracker.deferred
    if not variants and not events:
        return
    if not tracker.script_on_page:
        app.traffic.add("unscripted")
        app.warn_once(
            "unscripted:" + tracker.info.path,
            "%s was loaded in the background (%s) and rendered %s without mixtrack_script() "
            "on the page: nothing is exposed or tracked for it, even when it is shown; add "
            "{{ mixtrack_script() }} to the page's template",
            tracker.info.path,
            tracker.traffic.reason,
            ", ".join(v.experiment for v in variants) or f"{len(events)} event(s)",
        )
        return
    kept = {
        "d": tracker.distinct_id,
        "i": list(tracker.identities()),
        "p": {**tracker.context(), **tracker.extra_properties()},
        "x": [[v.experiment, v.name] for v in variants],
        "e": [[e.distinct_id, e.event, e.properties, e.time, e.insert_id] for e in events],
    }
    try:
        text = json.dumps(kept, separators=(",", ":"), default=str)
    except (TypeError, ValueError):  # pragma: no cover - properties were validated
        logger.exception("could not keep the background-loaded page %s", tracker.info.path)
        return
    if len(text) > _MAX_KEPT:
        logger.warning(
            "%s: what the background-loaded page withheld is %d bytes (over %d): not kept",
            tracker.info.path,
            len(text),
            _MAX_KEPT,
        )
        return
    try:
        app.ledger.add(_page_key(page_id(tracker)), text)
    except Exception:
        logger.exception("could not keep the background-loaded page %s", tracker.info.path)


def _take(app: WebApp, page: str) -> dict[str, Any] | None:
    key = _page_key(page)
    try:
        text = app.ledger.get(key)
        # Whoever releases the entry owns it: one activation sends, a replay finds nothing.
        if text is None or not app.ledger.release(key, text):
            return None
        kept = json.loads(text)
    except Exception:
        logger.exception("could not read the background-loaded page %r from the ledger", page)
        return None
    return kept if isinstance(kept, dict) else None


def _send(app: WebApp, kept: dict[str, Any]) -> int:
    experiments = app.experiments
    props = dict(kept.get("p") or {})
    ids = [str(i) for i in kept.get("i") or ()]
    sent = 0
    with context(**props):
        if experiments is not None:
            for experiment, name in kept.get("x") or ():
                variant = experiments.shown(str(kept["d"]), experiment, name, identities=ids)
                if variant.in_experiment and variant.expose():
                    sent += 1
        for distinct_id, event, properties, _at, insert_id in kept.get("e") or ():
            try:
                app.client.track(distinct_id, event, properties, insert_id=insert_id)
                sent += 1
            except ValidationError as exc:
                logger.warning("activation: event %r left out: %s", event, exc)
    return sent


def install(app: WebApp) -> None:
    """Serve ``POST /_mixtrack/activate`` (needs experiments, for the token's signature)."""
    from mixtrack.web._beacon import cross_site, token_text
    from mixtrack.web._runtime import EndpointResponse
    from mixtrack.web._visible_app import visible_of
    from mixtrack.web.visible import MAX_BODY, BeaconAnswer

    def answer(status: int, body: dict[str, Any], **headers: str) -> EndpointResponse:
        reply = BeaconAnswer(status, body, headers)
        return EndpointResponse(status, reply.content(), reply.content_type, tuple(headers.items()))

    def activate(tracker: RequestTracker, body: bytes) -> EndpointResponse:
        visible = visible_of(app)
        headers = tracker.info.headers
        cross = cross_site(headers.get("sec-fetch-site"), headers.get("origin"),
                           headers.get("host"))  # fmt: skip
        if cross:
            return answer(403, {"error": "cross_site", "message": cross})
        if len(body) > MAX_BODY:
            return answer(413, {"error": "too_large"})
        try:
            token = visible.tokens.verify(
                token_text(body, headers.get("content-type")), tracker.identities()
            )
        except (ValueError, TokenError) as exc:
            problem = getattr(exc, "problem", "malformed")
            return answer(400 if problem == "malformed" else 403, {"error": problem})
        if token.experiment != ACTIVATION:
            return answer(400, {"error": "malformed", "message": "not an activation token"})
        if not visible.rate.allow(tracker.distinct_id):
            return answer(429, {"error": "rate_limited"}, **{"Retry-After": "2"})
        kept = _take(app, token.variant)
        if kept is None:
            return answer(200, {"activated": False})
        sent = contextvars.Context().run(_send, app, kept)
        app.traffic.add("activations")
        return answer(200, {"activated": True, "sent": sent})

    app.endpoints.add("POST", ACTIVATE_PATH, activate)
