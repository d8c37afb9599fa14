"""Identity in both of Mixpanel's ID-merge systems, and the visitor's context, under uvicorn."""

from __future__ import annotations

from typing import Any

import pytest

from mixtrack.flags import StaticFlags

EXPOSURE = "$experiment_started"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def _layout(text: str) -> str:
    return text.split('<p id="layout">', 1)[1].split("<", 1)[0]


def _visitor_whose_variant_differs(server: Any, user: str) -> tuple[Any, str, str]:
    own = StaticFlags({"pricing_page_layout": {"grid": 50, "list": 50}})
    theirs = own.evaluate(user, "pricing_page_layout", {}).variant
    for _ in range(64):
        browser = server.browser()
        layout = _layout(browser.get("/pricing").text)
        if layout != theirs:
            return browser, layout, browser.get("/whoami").json()["device_id"]
        browser.close()
    raise AssertionError("no visitor with the other variant in 64 tries")


@pytest.mark.parametrize("mode", ["simplified", "original"])
def test_login_keeps_the_variant_and_joins_the_ids(
    start_uvicorn: Any, mixtrack_collector: Any, mode: str
) -> None:
    mixtrack_collector.identity_mode = mode  # the collector mirrors the project's system
    server = start_uvicorn(MIXTRACK_TEST_IDENTITY=mode)
    browser, before, device = _visitor_whose_variant_differs(server, "user-42")
    try:
        assert browser.post("/login/user-42").json()["distinct_id"] == "user-42"
        after = [_layout(browser.get("/pricing").text) for _ in range(3)]
        browser.post("/checkout")
        assert browser.post("/logout").json()["distinct_id"] != "$device:" + device
        new_device = browser.get("/whoami").json()["device_id"]
    finally:
        browser.close()
    assert after == [before] * 3  # no flip after login
    assert new_device != device  # logout starts a new device

    [order] = mixtrack_collector.wait_for(1, "Order completed", timeout=15)
    [identify] = mixtrack_collector.wait_for(1, "$identify", timeout=15)
    mine = f"$device:{device}"
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, distinct_id=mine, timeout=15)
    mixtrack_collector.wait_for(3, "Viewed pricing", distinct_id="user-42", timeout=15)
    assert mixtrack_collector.events(EXPOSURE, "user-42") == []  # no second exposure
    # The collector joins the two ids in either system.
    assert len(mixtrack_collector.events(EXPOSURE, "user-42", identity=True)) == 1
    assert exposure["properties"]["distinct_id"] == f"$device:{device}"
    ids = identify["properties"]
    assert ids["distinct_id"] == "user-42"
    assert ids["$anon_distinct_id"] == ids["$anon_id"] == f"$device:{device}"
    assert order["properties"]["distinct_id"] == "user-42"
    if mode == "simplified":
        assert ids["$device_id"] == device and ids["$user_id"] == "user-42"
        assert exposure["properties"]["$device_id"] == device
        assert "$user_id" not in exposure["properties"]
        assert order["properties"]["$device_id"] == device
        assert order["properties"]["$user_id"] == "user-42"
    else:
        for event in (identify, exposure, order):
            assert "$device_id" not in event["properties"]
            assert "$user_id" not in event["properties"]


def test_events_carry_the_visitors_context(start_uvicorn: Any, mixtrack_collector: Any) -> None:
    server = start_uvicorn(MIXTRACK_TEST_PROXIES="127.0.0.1/32")
    headers = {
        "User-Agent": CHROME,
        "Referer": "https://news.example/today?id=7",
        "X-Forwarded-For": "198.51.100.9, 203.0.113.7",  # the proxy at 127.0.0.1 appended
    }
    with server.browser(headers=headers) as browser:
        browser.get("/pricing", params={"utm_source": "news", "utm_campaign": "winter", "x": 1})
        browser.post("/checkout", headers={"Referer": server.url + "/pricing"})
    [order] = mixtrack_collector.wait_for(1, "Order completed", timeout=15)
    [viewed] = mixtrack_collector.wait_for(1, "Viewed pricing", timeout=15)
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=15)
    landing = viewed["properties"]
    assert landing["ip"] == "203.0.113.7"  # the last address before the trusted proxy
    assert landing["$browser"] == "Chrome" and landing["$browser_version"] == 120.0
    assert landing["$os"] == "Windows"
    assert "$device" not in landing  # a desktop, as mixpanel-browser leaves it out
    assert landing["$current_url"].startswith(server.url + "/pricing?utm_source=news")
    assert landing["$referrer"] == "https://news.example/today?id=7"
    assert landing["$referring_domain"] == "news.example"
    assert landing["utm_source"] == "news" and landing["utm_campaign"] == "winter"
    assert exposure["properties"]["utm_campaign"] == "winter"
    # Later requests of the visit keep the landing page's campaign.
    later = order["properties"]
    assert later["utm_source"] == "news" and later["utm_campaign"] == "winter"
    assert later["$current_url"] == server.url + "/checkout"
    assert later["$referring_domain"] == "127.0.0.1"


def test_forwarded_for_is_ignored_without_trusted_proxies_and_sync_routes_deliver(
    uvicorn_app: Any, mixtrack_collector: Any
) -> None:
    with uvicorn_app.browser(headers={"X-Forwarded-For": "198.51.100.9"}) as browser:
        assert browser.post("/checkout").status_code == 200
    found = mixtrack_collector.wait_for(1, "Order completed", timeout=15)
    [order] = found
    assert order["properties"]["ip"] == "127.0.0.1"
    assert "utm_source" not in order["properties"]
