"""The live view flags off-plan events in real headless Chromium (``collector --plan``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import mixtrack
from mixtrack.testing import Collector
from tests.collector._browser import chromium_session

DEMO_PLAN = Path(__file__).resolve().parents[2] / "mixtrack" / "demo" / "plan"
browser = pytest.fixture(scope="module", name="browser")(chromium_session)


def test_off_plan_events_are_flagged_with_their_reasons(browser: webdriver.Chrome) -> None:
    with Collector(plan=DEMO_PLAN) as collector:
        with mixtrack.Client("t", api_host=collector.url) as client:
            client.track("u1", "Viewed product", {"product": "pro", "price": 29.0})
            client.track("u1", "Viewed product", {"product": "pro", "price": "29"})
            assert client.flush(timeout=10)
        browser.get(collector.live_url)
        WebDriverWait(browser, 20).until(
            lambda b: len(b.find_elements(By.CSS_SELECTOR, "#events tbody tr")) == 2
        )
        flagged = browser.find_elements(By.CSS_SELECTOR, "#events tbody tr.off-plan")
        assert len(flagged) == 1
        cell = flagged[0].find_element(By.CSS_SELECTOR, "td.event")
        assert cell.get_attribute("title") == "wrong_type: 'price' must be number, got string"
        assert "off plan" in cell.text
        flagged[0].click()
        reasons = WebDriverWait(browser, 10).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "#plan-reasons li")
        )
        assert [li.text for li in reasons] == ["wrong_type: 'price' must be number, got string"]
