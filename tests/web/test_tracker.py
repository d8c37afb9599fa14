"""RequestTracker on an in-memory transport: identity, holding, settling, cookies."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from mixtrack.testing import capture
from mixtrack.web import RequestInfo, RequestTracker, WebApp, WebSettings
from tests._agents import FIREFOX

PRICING = {"pricing_page_layout": {"grid": 50, "list": 50}}
EXPOSURE = "$experiment_started"


@pytest.fixture
def captured() -> Any:
    events = capture()
    yield events
    events.client.shutdown(timeout=5.0)


def make_app(captured: Any, **settings: Any) -> WebApp:
    return WebApp(captured.client, flags=PRICING, secret="s", settings=WebSettings(**settings))


def request(url: str = "https://shop.example/pricing", **cookies: str) -> RequestInfo:
    return RequestInfo("GET", url, {"user-agent": FIREFOX}, "203.0.113.7", cookies)


def test_exposures_and_render_events_wait_for_commit(captured: Any) -> None:
    app = make_app(captured)
    tracker = RequestTracker(app, request())
    variant = tracker.experiment("pricing_page_layout")
    assert tracker.track_on_delivery("Viewed pricing", {"layout": variant.name})
    tracker.track("Clicked buy")  # a view's event leaves at once
    assert captured.names() == ["Clicked buy"]
    assert tracker.commit() == 2
    assert tracker.commit() == 0 and tracker.discard() == 0  # settled once
    assert sorted(captured.names()) == sorted(["Clicked buy", EXPOSURE, "Viewed pricing"])
    [exposure] = captured.named(EXPOSURE)
    props = exposure["properties"]
    assert props["distinct_id"] == tracker.anon_id == "$device:" + tracker.device_id
    assert props["$device_id"] == tracker.device_id and props["ip"] == "203.0.113.7"
    assert props["$current_url"] == "https://shop.example/pricing"


def test_discard_sends_nothing_and_frees_the_exposure(captured: Any) -> None:
    app = make_app(captured)
    first = RequestTracker(app, request())
    first.experiment("pricing_page_layout")
    first.track_on_delivery("Viewed pricing")
    assert first.discard() == 2
    assert captured.names() == []
    cookie = first.response_cookies()[0]
    again = RequestTracker(app, request(**{cookie.name: cookie.value}))
    assert again.device_id == first.device_id and not again.response_cookies()
    again.experiment("pricing_page_layout")
    assert again.commit() == 1
    assert captured.names() == [EXPOSURE]


def test_a_bad_property_value_is_logged_and_left_out(
    captured: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = RequestTracker(make_app(captured), request())
    with caplog.at_level(logging.WARNING, "mixtrack.web"):
        assert not tracker.track_on_delivery("Viewed", {"when": object()}, source="{% track %}")
        assert not tracker.track_on_delivery("", {}, source="track()")
    assert tracker.commit() == 0
    assert "{% track %}: event 'Viewed' left out" in caplog.text and "'when'" in caplog.text
    assert "track(): event '' left out" in caplog.text


def test_an_unknown_experiment_warns_once(captured: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(captured)
    with caplog.at_level(logging.WARNING, "mixtrack.web"):
        for _ in range(3):
            tracker = RequestTracker(app, request())
            assert tracker.experiment("pricng_page_layout", where="{% experiment %}").name is None
            tracker.commit()
    assert caplog.text.count("names experiment 'pricng_page_layout'") == 1
    assert "{% experiment %}" in caplog.text
    assert captured.names() == []


@pytest.mark.parametrize("mode", ["simplified", "original"])
def test_login_keeps_the_variant_and_logout_starts_a_new_device(captured: Any, mode: str) -> None:
    app = make_app(captured, identity=mode)
    tracker = RequestTracker(app, request())
    before = tracker.experiment("pricing_page_layout")
    device = tracker.device_id
    assert tracker.login("user-42") and not tracker.login("user-42")
    assert tracker.distinct_id == "user-42" and tracker.device_id == device
    assert tracker.variant("pricing_page_layout").name == before.name  # sticky
    tracker.track("Order completed")
    tracker.commit()
    later = RequestTracker(app, request(), user_loader=lambda: "user-42")
    assert later.experiment("pricing_page_layout").name == before.name
    assert later.commit() == 0  # no second exposure
    [identify] = captured.named("$identify")
    [order] = captured.named("Order completed")
    assert identify["properties"]["distinct_id"] == "user-42"
    assert identify["properties"]["$anon_distinct_id"] == "$device:" + device
    if mode == "simplified":
        assert identify["properties"]["$device_id"] == device
        assert identify["properties"]["$user_id"] == "user-42"
        assert order["properties"]["$device_id"] == device
        assert order["properties"]["$user_id"] == "user-42"
    else:
        assert "$device_id" not in order["properties"] and "$user_id" not in order["properties"]
    tracker.logout()
    assert tracker.user_id is None and tracker.device_id != device
    assert tracker.response_cookies()[0].value.startswith(tracker.device_id + ".")


def test_utm_parameters_are_kept_for_the_visit(captured: Any) -> None:
    app = make_app(captured)
    landing = RequestTracker(app, request("https://shop.example/?utm_source=news&utm_medium=mail"))
    cookies = {cookie.name: cookie for cookie in landing.response_cookies()}
    utm = cookies["mixtrack_anon_utm"]
    assert utm.max_age is None and utm.secure  # a session cookie, Secure over https
    later = RequestTracker(
        app, request("https://shop.example/pricing", mixtrack_anon_utm=utm.value)
    )
    assert later.context()["utm_source"] == "news" and later.context()["utm_medium"] == "mail"
    assert later.response_cookies() == []
    forged = RequestTracker(app, request("https://shop.example/", mixtrack_anon_utm="e30.bad"))
    assert "utm_source" not in forged.context()
    new_campaign = RequestTracker(
        app, request("https://shop.example/?utm_source=ads", mixtrack_anon_utm=utm.value)
    )
    assert (
        new_campaign.context()["utm_source"] == "ads" and "utm_medium" not in new_campaign.context()
    )


def test_nothing_is_added_outside_a_request(captured: Any) -> None:
    app = make_app(captured)
    RequestTracker(app, request()).track("In a request")
    captured.client.track("user-1", "Outside")
    [outside] = captured.named("Outside")
    assert not {"ip", "$browser", "$current_url", "$device_id"} & set(outside["properties"])
    [inside] = captured.named("In a request")
    assert inside["properties"]["$browser"] == "Firefox"


def test_variants_are_evaluated_once_per_request(captured: Any) -> None:
    tracker = RequestTracker(make_app(captured), request())
    assert tracker.variant("pricing_page_layout") is tracker.variant("pricing_page_layout")
    assert tracker.variant("pricing_page_layout", {"plan": "pro"}) is not tracker.variant(
        "pricing_page_layout"
    )
