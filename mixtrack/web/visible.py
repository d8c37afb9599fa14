"""Exposure when visible: the browser says *when* a variant is seen, the server decides *whether*.

A template opts in per experiment; the variant is then not exposed at render. The element
showing it carries ``data-mixtrack-exposure="<token>"`` (:meth:`VisibleExposure.attributes`),
the page loads ``/_mixtrack/exposure.js`` (:meth:`VisibleExposure.script_tag`), and when the
element has been at least half visible for the dwell time while the page is visible, the
script posts the token to ``POST /_mixtrack/exposure`` on the app's own origin. There
:meth:`VisibleExposure.receive` checks the token (signature, age, the visitor it was issued
to), the request's origin and the visitor's rate, then lets the ledger decide first-time or
not, and the app's client tracks ``$experiment_started``. The framework adapters only
translate their request into a :class:`Beacon` and the :class:`BeaconAnswer` back.

>>> visible = VisibleExposure(experiments, secret="app-secret")  # doctest: +SKIP
>>> visible.attributes(variant)  # doctest: +SKIP
'data-mixtrack-exposure="WyJ1c2VyLTQyIiwib2ZmZXIi..."'
"""

from __future__ import annotations

import contextvars
import hashlib
import html
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs

import mixtrack
from mixtrack.errors import ConfigError
from mixtrack.exposure import Experiments, ExposureTokens, Render, RequestScope, TokenError, Variant
from mixtrack.exposure._exposure import exposure_key
from mixtrack.exposure._rendered import render_key
from mixtrack.protocol.rendered import EXPOSURE_MODE, VISIBLE
from mixtrack.web._beacon import cross_site, token_text
from mixtrack.web._rate import RateLimiter

if TYPE_CHECKING:
    from mixtrack.web import RequestTracker, WebApp

__all__ = [
    "ENDPOINT_PATH",
    "SCRIPT_PATH",
    "Beacon",
    "BeaconAnswer",
    "RateLimiter",
    "VisibleExposure",
    "VisibleStats",
    "experiment_visible",
    "exposure_token",
    "visible_exposure",
]

logger = logging.getLogger("mixtrack.exposure")

SCRIPT_PATH = "/_mixtrack/exposure.js"
"""Where the app serves the exposure script (``GET``)."""
ENDPOINT_PATH = "/_mixtrack/exposure"
"""Where the script posts tokens (``POST``)."""
ATTRIBUTE = "data-mixtrack-exposure"

# A beacon carries one token (or a small JSON object holding it); more is not ours.
MAX_BODY = 4096


@attrs.frozen
class Beacon:
    """One request to the exposure endpoint, as the framework adapter saw it.

    ``visitor_ids``: every id the request's visitor holds (the anonymous id from the cookie
    and, when logged in, the user id); ``rate_key``: who is rate-limited (default: the first
    id). ``host`` is the request's ``Host``; ``origin`` and ``fetch_site`` the ``Origin`` and
    ``Sec-Fetch-Site`` headers when the browser sent them. ``properties``: the visitor's
    request context (ip, browser, ...), put on the exposure.

    >>> Beacon("POST", b"<token>", "text/plain", ("$device:7f3",), host="shop.example")
    ... # doctest: +ELLIPSIS
    Beacon(method='POST', ...)
    """

    method: str
    body: bytes
    content_type: str | None
    visitor_ids: tuple[str | None, ...]
    host: str | None = None
    origin: str | None = None
    fetch_site: str | None = None
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    rate_key: str | None = None


@attrs.frozen
class BeaconAnswer:
    """What the endpoint answers: a status, a small JSON body and headers.

    >>> BeaconAnswer(403, {"error": "forged"}).content()
    b'{"error":"forged"}'
    """

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def content(self) -> bytes:
        """The body as compact JSON bytes."""
        return json.dumps(dict(self.body), separators=(",", ":")).encode()

    content_type = "application/json"


@attrs.frozen
class VisibleStats:
    """Counters since the :class:`VisibleExposure` was created.

    ``exposed``: beacons that produced ``$experiment_started``; ``duplicates``: already
    exposed (a reload, a second scroll); ``excluded``: no longer in the experiment;
    ``refused``: 4xx answers by reason (``forged``, ``not_yours``, ``cross_site``,
    ``rate_limited``...); ``renders``: render events recorded; ``ledger_errors``: render
    bookkeeping that could not reach the ledger (the render event is sent anyway).
    """

    beacons: int = 0
    exposed: int = 0
    duplicates: int = 0
    excluded: int = 0
    renders: int = 0
    ledger_errors: int = 0
    refused: Mapping[str, int] = attrs.field(factory=dict)


def _dwell(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 60:
        raise ConfigError(f"dwell must be between 0 and 60 seconds, got {value!r}")
    return float(value)


def _script_bytes() -> bytes:
    return resources.files("mixtrack.web").joinpath("static/exposure.js").read_bytes()


class VisibleExposure:
    """Tokens, the script and the endpoint of exposure when visible, for one app.

    - ``experiments``: the app's :class:`~mixtrack.exposure.Experiments` (its ledger makes
      the exposure once per person and experiment, across the fleet);
    - ``secret``: the app's secret key, or a list (the first signs, all verify);
    - ``dwell``: seconds an element must stay at least half visible (default 0.5);
    - ``max_age``: seconds a token stays good (default a day);
    - ``rate``: the per-visitor :class:`RateLimiter`;
    - ``track_renders``: record each first render as ``Experiment rendered``, which is what
      the audit and live view count as "rendered but never seen" (default True; False saves
      one event per person and experiment and loses that figure).

    >>> visible = VisibleExposure(experiments, secret="app-secret", dwell=1.0)  # doctest: +SKIP
    """

    def __init__(
        self,
        experiments: Experiments,
        secret: str | bytes | Sequence[str | bytes],
        *,
        dwell: float = 0.5,
        max_age: float = 86400.0,
        rate: RateLimiter | None = None,
        track_renders: bool = True,
    ) -> None:
        self.experiments = experiments
        self.tokens = ExposureTokens(secret, max_age=max_age)
        self.dwell = _dwell(dwell)
        self.rate = rate if rate is not None else RateLimiter()
        self.track_renders = track_renders
        self.script = _script_bytes()
        self.script_etag = '"' + hashlib.sha256(self.script).hexdigest()[:16] + '"'
        self._counts: dict[str, int] = {}
        self._refused: dict[str, int] = {}
        self._lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    # -- rendering ------------------------------------------------------------------------

    def rendered(
        self, variant: Variant, scope: RequestScope | None, send: Callable[[Render], None]
    ) -> None:
        """Record that ``variant`` was put on a page, to be exposed when seen.

        When ``scope`` (the request's) commits, that is when the page was delivered,
        ``send(render)`` is called with the ``Experiment rendered`` event to track, the
        first time for this person and experiment; never for someone already exposed or
        not in the experiment, nor for a page that failed. Without a scope, at once.
        """
        name = variant.name
        if not self.track_renders or name is None or not variant.in_experiment:
            return
        render = Render(variant.distinct_id, variant.experiment, name, time.time())

        def record() -> None:
            ledger = self.experiments.ledger
            try:
                if ledger.get(exposure_key(render.distinct_id, render.experiment)) is not None:
                    return
                if not ledger.add(render_key(render.distinct_id, render.experiment), name):
                    return
            except Exception:
                # The render figure is bookkeeping: a ledger outage must not cost the page,
                # and a repeated render event only repeats what the audit counts per person.
                logger.exception("could not record the render of %r in the ledger", variant)
                self._count("ledger_errors")
            send(render)
            self._count("renders")

        if scope is None or not scope.on_commit(record):
            record()

    def token(self, variant: Variant) -> str | None:
        """The exposure token for ``variant``; None when it is not in the experiment."""
        if variant.name is None or not variant.in_experiment:
            return None
        return self.tokens.issue(variant.distinct_id, variant.experiment, variant.name)

    def attributes(self, variant: Variant) -> str:
        """``data-mixtrack-exposure="<token>"`` for the element showing ``variant``.

        Empty for a variant that is not in the experiment: there is nothing to expose.
        """
        token = self.token(variant)
        return "" if token is None else f'{ATTRIBUTE}="{html.escape(token)}"'

    def script_tag(
        self,
        nonce: str | None = None,
        prefix: str = "",
        dwell: float | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """The ``<script>`` element loading the exposure script (with a CSP ``nonce``).

        ``prefix`` is the app's mount point when it is not served at ``/``; ``dwell``
        replaces the app's dwell time for this page; ``extra`` are more ``data-*``
        attributes (a background-loaded page's activation token).
        """
        seconds = self.dwell if dwell is None else _dwell(dwell)
        attrs_ = [
            f'src="{html.escape(prefix + SCRIPT_PATH)}?v={self.script_etag.strip(chr(34))}"',
            f'data-endpoint="{html.escape(prefix + ENDPOINT_PATH)}"',
            f'data-dwell="{round(seconds * 1000)}"',
        ]
        for name, value in (extra or {}).items():
            if name.endswith("endpoint"):
                value = prefix + value
            attrs_.append(f'{html.escape(name)}="{html.escape(value)}"')
        if nonce:
            attrs_.append(f'nonce="{html.escape(nonce)}"')
        return f"<script {' '.join(attrs_)} defer></script>"

    def script_headers(self) -> dict[str, str]:
        """Headers for ``GET /_mixtrack/exposure.js``."""
        return {
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=86400",
            "ETag": self.script_etag,
            "X-Content-Type-Options": "nosniff",
        }

    # -- the endpoint ---------------------------------------------------------------------

    def _refuse(self, status: int, reason: str, message: str, **headers: str) -> BeaconAnswer:
        with self._lock:
            self._refused[reason] = self._refused.get(reason, 0) + 1
        logger.warning("exposure beacon refused (%s): %s", reason, message)
        return BeaconAnswer(status, {"error": reason, "message": message}, headers)

    def receive(self, beacon: Beacon) -> BeaconAnswer:
        """Answer one ``POST /_mixtrack/exposure``: verify, then expose once, or refuse.

        200 with ``{"exposed": true}`` when this beacon produced the exposure, ``false``
        (and a ``reason``) when the person was already exposed or is no longer in the
        experiment; 400 (unreadable), 403 (forged, expired, another visitor's token, a
        cross-site request), 405, 413, 415, 429 (with ``Retry-After``) send nothing.
        """
        self._count("beacons")
        if beacon.method.upper() != "POST":
            return self._refuse(405, "method", f"use POST, not {beacon.method}", Allow="POST")
        cross = cross_site(beacon.fetch_site, beacon.origin, beacon.host)
        if cross:
            return self._refuse(403, "cross_site", cross)
        if len(beacon.body) > MAX_BODY:
            return self._refuse(413, "too_large", f"a beacon is at most {MAX_BODY} bytes")
        try:
            text = token_text(beacon.body, beacon.content_type)
        except ValueError as exc:
            return self._refuse(415 if "content type" in str(exc) else 400, "malformed", str(exc))
        try:
            token = self.tokens.verify(text, beacon.visitor_ids)
        except TokenError as exc:
            return self._refuse(400 if exc.problem == "malformed" else 403, exc.problem, str(exc))
        key = beacon.rate_key or token.distinct_id
        if not self.rate.allow(key):
            after = str(self.rate.retry_after())
            return self._refuse(
                429, "rate_limited", f"too many beacons from {key!r}", **{"Retry-After": after}
            )
        variant = self.experiments.shown(
            token.distinct_id, token.experiment, token.variant, {EXPOSURE_MODE: VISIBLE}
        )
        if not variant.in_experiment:
            self._count("excluded")
            return BeaconAnswer(200, {"exposed": False, "reason": "not in experiment"})
        exposed = contextvars.Context().run(_expose_now, variant, beacon.properties)
        self._count("exposed" if exposed else "duplicates")
        return BeaconAnswer(200, {"exposed": exposed} | ({} if exposed else {"reason": "seen"}))

    def stats(self) -> VisibleStats:
        """A snapshot of the counters (see :class:`VisibleStats`)."""
        with self._lock:
            return VisibleStats(**self._counts, refused=dict(self._refused))

    def __repr__(self) -> str:
        return f"<VisibleExposure dwell={self.dwell:g}s {self.tokens!r}>"


def visible_exposure(app: WebApp) -> VisibleExposure:
    """The :class:`VisibleExposure` of a framework integration's :class:`~mixtrack.web.WebApp`
    (Django ``get_mixtrack().web``, Flask ``app.extensions["mixtrack"].web``, FastAPI
    ``mt.web``): its counters, and ``dwell`` / ``track_renders`` to change.

    >>> visible_exposure(get_mixtrack().web).stats().exposed  # doctest: +SKIP
    12
    """
    from mixtrack.web._visible_app import visible_of

    return visible_of(app)


def experiment_visible(
    tracker: RequestTracker, experiment: str, attributes: Mapping[str, Any] | None = None
) -> Variant:
    """In a view: the visitor's variant of ``experiment``, to be exposed when seen.

    What ``experiment(name, expose="visible")`` does in a template, for a JSON view that
    hands the variant and its :func:`exposure_token` to a single-page app. ``tracker`` is
    the request's (Django ``request.mixtrack``, FastAPI ``request.state.mixtrack``, Flask
    ``mixtrack_flask.app_state().current()``).

    >>> variant = experiment_visible(request.mixtrack, "offer")  # doctest: +SKIP
    """
    from mixtrack.web._visible_app import experiment_visible as evaluate

    return evaluate(tracker, experiment, attributes, where="experiment_visible()")


def exposure_token(tracker: RequestTracker, variant: Variant) -> str | None:
    """The token a single-page app posts to ``/_mixtrack/exposure`` when it shows
    ``variant``; None when the variant is not in the experiment.

    >>> exposure_token(request.mixtrack, variant)  # doctest: +SKIP
    'WyIkZGV2aWNlOjdmMyIsIm9mZmVyIiwiZGlzY291bnQiLDE3MDAwMDAwMDBd.qE2...'
    """
    return visible_exposure(tracker.app).token(variant)


def _expose_now(variant: Variant, properties: Mapping[str, Any]) -> bool:
    # Run in an empty context: no request scope holds this exposure (the beacon's answer is
    # the delivery), and only the visitor's properties given here go with it.
    with mixtrack.context(**dict(properties)):
        return variant.expose()
