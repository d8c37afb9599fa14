"""The template helpers and endpoints every WebApp gets, without any framework around them."""

from __future__ import annotations

import pytest

from mixtrack.errors import ConfigError
from mixtrack.testing import capture
from mixtrack.web import RequestInfo, RequestTracker, WebApp
from mixtrack.web.visible import ENDPOINT_PATH, SCRIPT_PATH, visible_exposure

FLAGS = {"offer": {"control": 50, "discount": 50}}


def tracker_for(app: WebApp, **headers: str) -> RequestTracker:
    return RequestTracker(app, RequestInfo("GET", "https://shop.example/offer", headers))


def test_expose_visible_holds_a_render_and_no_exposure_until_delivery():
    events = capture()
    app = WebApp(events.client, flags=FLAGS, secret="s")
    tracker = tracker_for(app)
    variant = app.helpers["experiment"](tracker, "offer", expose="visible")
    assert variant.name in ("control", "discount")
    assert tracker.scope is not None and tracker.scope.exposures == ()
    markup = app.helpers["exposure_attrs"](tracker, variant)
    assert markup.__html__() == str(markup)
    assert str(markup).startswith('data-mixtrack-exposure="')
    tag = app.helpers["mixtrack_script"](tracker, nonce="n0nce", dwell=1.5)
    assert 'nonce="n0nce"' in tag and 'data-dwell="1500"' in tag
    assert events.named("Experiment rendered") == []
    tracker.commit()
    [render] = events.named("Experiment rendered")
    assert render["properties"]["Variant name"] == variant.name
    assert render["properties"]["$current_url"] == "https://shop.example/offer"
    assert events.named("$experiment_started") == []
    events.client.shutdown()


def test_render_mode_stays_the_default():
    events = capture()
    app = WebApp(events.client, flags=FLAGS, secret="s")
    tracker = tracker_for(app)
    app.helpers["experiment"](tracker, "offer")
    assert tracker.scope is not None and len(tracker.scope.exposures) == 1
    tracker.commit()
    assert len(events.named("$experiment_started")) == 1
    assert events.named("Experiment rendered") == []
    events.client.shutdown()


def test_clear_errors():
    events = capture()
    app = WebApp(events.client, flags=FLAGS, secret="s")
    tracker = tracker_for(app)
    with pytest.raises(ValueError, match='expose must be "render" \\(the default\\) or "visible"'):
        app.helpers["experiment"](tracker, "offer", expose="seen")
    with pytest.raises(TypeError, match="exposure_attrs\\(\\) takes a Variant"):
        app.helpers["exposure_attrs"](tracker, "offer")
    bare = WebApp(events.client, secret="s")  # no flags: no experiments, no endpoints
    assert bare.endpoints.match("POST", ENDPOINT_PATH) is None
    with pytest.raises(ConfigError, match="exposure when visible needs experiments"):
        visible_exposure(bare)
    events.client.shutdown()


def test_the_script_endpoint_answers_304_to_a_fresh_copy():
    events = capture()
    app = WebApp(events.client, flags=FLAGS, secret="s")
    serve = app.endpoints.match("GET", SCRIPT_PATH)
    assert serve is not None
    first = serve(tracker_for(app), b"")
    assert first.status == 200 and first.content_type.startswith("text/javascript")
    etag = dict(first.headers)["ETag"]
    assert serve(tracker_for(app, **{"if-none-match": etag}), b"").status == 304
    events.client.shutdown()
