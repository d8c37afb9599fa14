"""The live view as a product manager uses it, in real headless Chromium: dates and event-time
order, a chart, property columns and filter, a person view, NDJSON export, tabs; every request
stays on the collector."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mixtrack.testing._collector import Collector
from tests.collector._browser import chromium_session
from tests.collector._helpers import event

SHOTS = Path(tempfile.gettempdir())
OLD = 1_690_000_000  # 2023-07-22, imported history

browser = pytest.fixture(scope="module", name="browser")(chromium_session)


def shown(browser: webdriver.Chrome) -> list[tuple[str, str]]:
    return [
        (tr.get_attribute("data-event") or "", tr.find_element(By.CSS_SELECTOR, "td.time").text)
        for tr in browser.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    ]


def post(collector: Collector, records: list[dict[str, object]]) -> None:
    answer = httpx.post(
        f"{collector.url}/track", data={"data": json.dumps(records)}, trust_env=False
    )
    assert answer.status_code == 200


def test_a_day_of_events_with_history_a_chart_a_person_and_an_export(
    browser: webdriver.Chrome, collector: Collector
) -> None:
    now = time.time()
    post(
        collector,
        [
            event("Viewed pricing", "$device:dev-1", **{"$device_id": "dev-1"}, plan="pro"),
            event("Signed up", "ada", **{"$device_id": "dev-1", "$user_id": "ada"}, plan="pro"),
            event("Order completed", "ada", revenue=29.0, plan="pro"),
            event("Viewed pricing", "bob", plan="free"),
        ]
        + [event("Viewed home", f"visitor-{i}", time=now - 3600 + i * 60) for i in range(30)],
    )
    # history imported after the live events: it arrives last but belongs at the bottom
    old = event("Order completed", "carol", time=OLD, revenue=99.0, plan="team")
    old["properties"]["$insert_id"] = "history-1"
    imported = httpx.post(f"{collector.url}/import", json=[old], auth=("tok", ""), trust_env=False)
    assert imported.status_code == 200, imported.text

    browser.get(collector.live_url)
    WebDriverWait(browser, 10).until(lambda b: len(shown(b)) == 35)
    rows = shown(browser)
    assert rows[-1] == ("Order completed", "2023-07-22 " + rows[-1][1][11:])
    today = time.strftime("%Y-%m-%d")
    assert all(when.startswith(today) for _, when in rows[:-1]), rows
    assert [when for _, when in rows] == sorted((when for _, when in rows), reverse=True)
    assert browser.find_element(By.ID, "empty").is_displayed() is False
    arrived = browser.find_elements(By.CSS_SELECTOR, "#events tbody td.arrived")
    assert len(arrived) == 35 and all(a.text.count(":") == 2 for a in arrived)

    # a chart of events over time, one line per event name, with counts in the legend
    lines = browser.find_elements(By.CSS_SELECTOR, "#chart-svg polyline.series")
    assert {line.get_attribute("data-event") for line in lines} == {
        "Viewed home",
        "Viewed pricing",
        "Order completed",
        "Signed up",
    }
    chart = browser.find_element(By.ID, "chart").text
    assert "Viewed home (30)" in chart and "Order completed (1)" in chart
    assert "last 24 hours; 1 older event(s) not charted" in chart
    browser.save_screenshot(str(SHOTS / "mixtrack-live-view-events.png"))

    # property columns, then a property filter
    browser.find_element(By.ID, "columns").send_keys("plan, revenue")
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#events thead th.prop")]
    assert heads == ["plan", "revenue"]
    browser.find_element(By.ID, "filter-prop").send_keys("plan=pro")
    WebDriverWait(browser, 5).until(lambda b: len(shown(b)) == 3)
    cells = [
        [td.text for td in tr.find_elements(By.CSS_SELECTOR, "td.prop")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    ]
    assert sorted(cells) == [["pro", ""], ["pro", ""], ["pro", "29"]]
    assert browser.find_element(By.ID, "shown").text == "3 of 35 shown"

    # readable properties: the time with its date
    browser.find_element(By.CSS_SELECTOR, "#events tbody tr td.event").click()
    time_row = browser.find_element(
        By.CSS_SELECTOR, '#event-property-table tr[data-property="time"]'
    )
    assert time_row.text.split()[1] == today

    # the person view: merged ids and events in time order
    browser.find_element(
        By.XPATH, "//table[@id='events']//button[contains(@class,'person') and text()='ada']"
    ).click()
    WebDriverWait(browser, 5).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#person-events li"))
    assert browser.find_element(By.ID, "person-id").text == "ada"
    merged = {c.text for c in browser.find_elements(By.CSS_SELECTOR, "#person .merged-id")}
    assert {"ada", "$device:dev-1"} <= merged
    person_events = [
        li.get_attribute("data-event")
        for li in browser.find_elements(By.CSS_SELECTOR, "#person-events li")
    ]
    assert person_events == ["Viewed pricing", "Signed up", "Order completed"]
    browser.save_screenshot(str(SHOTS / "mixtrack-live-view-person.png"))

    # NDJSON export of what is shown, made in the page
    exported = browser.execute_async_script(
        """const done = arguments[0];
        HTMLAnchorElement.prototype.click = function () {
          fetch(this.href).then((r) => r.text()).then(done);
        };
        document.getElementById("export").click();"""
    )
    lines_out = [json.loads(line) for line in exported.splitlines()]
    assert len(lines_out) == 3 and {e["properties"]["plan"] for e in lines_out} == {"pro"}

    # the tabs
    browser.find_element(By.ID, "tab-rejected").click()
    assert browser.find_element(By.ID, "panel-rejected").is_displayed()
    browser.find_element(By.ID, "tab-profiles").click()
    assert browser.find_element(By.ID, "panel-profiles").is_displayed()
    browser.find_element(By.ID, "tab-events").click()
    assert browser.find_element(By.ID, "panel-events").is_displayed()

    # everything the page loaded came from the collector (or was made in the page)
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    loaded.append(browser.current_url)
    assert loaded and all(
        url.startswith(collector.url) or url.startswith("blob:" + collector.url) for url in loaded
    ), loaded


def test_the_page_says_it_is_loading_then_waits(
    browser: webdriver.Chrome, collector: Collector
) -> None:
    browser.get(collector.live_url)
    WebDriverWait(browser, 10).until(lambda b: "live" in b.find_element(By.ID, "status").text)
    empty = browser.find_element(By.ID, "empty").text
    assert empty.startswith("Waiting for events… send them to http://127.0.0.1:")
    assert "No events to chart yet." in browser.find_element(By.ID, "chart").text
    browser.save_screenshot(str(SHOTS / "mixtrack-live-view-empty.png"))


def test_a_large_store_opens_on_its_latest_events(
    browser: webdriver.Chrome, collector: Collector
) -> None:
    start = time.time() - 7200
    for batch in range(3):
        records = []
        for i in range(batch * 2000, (batch + 1) * 2000):
            record = event("Viewed home", f"visitor-{i}", time=start + i, n=i)
            record["properties"]["$insert_id"] = f"large-{i}"
            records.append(record)
        answer = httpx.post(
            f"{collector.url}/import", json=records, auth=("tok", ""), trust_env=False
        )
        assert answer.status_code == 200, answer.text
    browser.get(collector.live_url)
    WebDriverWait(browser, 20).until(
        lambda b: "(the latest 5000 of 6000)" in b.find_element(By.ID, "shown").text
    )
    first = browser.find_element(By.CSS_SELECTOR, "#events tbody tr td button.person")
    assert first.text == "visitor-5999"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#events tbody tr")) == 500  # drawn
