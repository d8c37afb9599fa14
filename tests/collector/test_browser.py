"""Real headless Chromium: mixpanel-browser sending to the collector, and the live view."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mixtrack.testing._collector import Collector
from tests.collector._browser import chromium_session, static_site
from tests.collector._helpers import event

SCREENSHOT = Path(tempfile.gettempdir()) / "mixtrack-live-view.png"

PAGE = """<!doctype html><html><head><title>shop</title><script src="mixpanel.js"></script></head>
<body><button id="buy">Buy</button><script>
  mixpanel.init("browser-token", {
    api_host: "%(api_host)s", batch_flush_interval_ms: 100, persistence: "localStorage"
  });
  mixpanel.track("Page viewed", {page: "home"});
  mixpanel.identify("user-b1");
  mixpanel.people.set({plan: "pro"});
  mixpanel.get_group("company", "acme").set({name: "Acme"});
  document.getElementById("buy").onclick = () => mixpanel.track("Clicked", {button: "buy"});
  mixpanel.track("Left page", {}, {transport: "sendBeacon", send_immediately: true});
</script></body></html>"""


browser = pytest.fixture(scope="module", name="browser")(chromium_session)


def rows(browser: webdriver.Chrome) -> list[str]:
    return [
        tr.get_attribute("data-event") or ""
        for tr in browser.find_elements(By.CSS_SELECTOR, "#events tbody tr")
        if tr.is_displayed()
    ]


def test_mixpanel_browser_from_another_origin(
    browser: webdriver.Chrome, collector: Collector
) -> None:
    with static_site({"index.html": PAGE % {"api_host": collector.url}}) as site:
        browser.get(f"{site}/index.html")
        browser.find_element(By.ID, "buy").click()
        found = collector.wait_for(4, timeout=15)
        names = sorted(e["event"] for e in found)
        assert names == ["$identify", "Clicked", "Left page", "Page viewed"]
        beacon = [e for e in found if e["event"] == "Left page"]
        assert beacon[0]["properties"]["$device_id"]  # sent by navigator.sendBeacon
        [clicked] = collector.events("Clicked")
        props = clicked["properties"]
        assert props["mp_lib"] == "web" and props["distinct_id"] == "user-b1"
        assert props["token"] == "browser-token" and len(props["$insert_id"]) >= 10
        [identify] = collector.events("$identify")
        anon = identify["properties"]["$anon_distinct_id"]
        assert collector.identity(anon) == ["user-b1", anon]
        assert len(collector.events(distinct_id="user-b1", identity=True)) == 4
        WebDriverWait(browser, 15).until(lambda _: collector.profile("user-b1") is not None)
        profile = collector.profile("user-b1") or {}
        assert profile["plan"] == "pro" and profile["$browser"] == "Chrome"
        WebDriverWait(browser, 15).until(lambda _: collector.groups("company", "acme"))
        assert collector.groups("company", "acme")[0]["properties"] == {"name": "Acme"}
        assert collector.rejected() == []


def test_live_view_shows_new_events_and_filters(
    browser: webdriver.Chrome, collector: Collector
) -> None:
    browser.get(collector.live_url)
    WebDriverWait(browser, 10).until(lambda b: "live" in b.find_element(By.ID, "status").text)
    assert rows(browser) == []

    exposure = {"Experiment name": "checkout_redesign", "Variant name": "treatment"}
    records = [
        event("Signed up", "user-1", plan="pro"),
        event("Viewed page", "user-2", page="/pricing"),
        event("Signed up", "user-3", plan="free"),
        event("$experiment_started", "user-1", **exposure),
        event("$experiment_started", "user-3", **{**exposure, "Variant name": "control"}),
    ]
    httpx.post(f"{collector.url}/track", data={"data": json.dumps(records)}, trust_env=False)
    profile = {"$token": "tok", "$distinct_id": "user-1", "$set": {"$email": "one@example.com"}}
    httpx.post(f"{collector.url}/engage", data={"data": json.dumps([profile])}, trust_env=False)

    WebDriverWait(browser, 10).until(lambda b: len(rows(b)) == 5)
    assert rows(browser)[0] == "$experiment_started"  # newest first

    browser.find_element(By.ID, "filter-event").send_keys("Signed")
    WebDriverWait(browser, 5).until(lambda b: rows(b) == ["Signed up", "Signed up"])
    browser.find_element(By.ID, "filter-distinct-id").send_keys("user-3")
    WebDriverWait(browser, 5).until(lambda b: rows(b) == ["Signed up"])

    browser.find_element(By.CSS_SELECTOR, "#events tbody tr td.event").click()
    raw = browser.find_element(By.ID, "event-properties").get_attribute("textContent")
    detail = json.loads(raw)
    assert detail["distinct_id"] == "user-3" and detail["plan"] == "free"

    WebDriverWait(browser, 10).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#experiments [data-variant]")) == 2
    )
    panel = browser.find_element(By.ID, "experiments").text
    assert "checkout_redesign" in panel and "treatment" in panel and "control" in panel
    browser.save_screenshot(str(SCREENSHOT))

    browser.find_element(By.ID, "tab-profiles").click()
    WebDriverWait(browser, 10).until(
        lambda b: "one@example.com" in b.find_element(By.ID, "profiles").text
    )
