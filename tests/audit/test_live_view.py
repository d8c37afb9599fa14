"""The live view's launch audit card in real headless Chromium."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mixtrack.client import Client
from mixtrack.testing import Collector
from tests.audit._launch import broken_launch, clean_launch
from tests.collector._browser import chromium_session

browser = pytest.fixture(scope="module", name="browser")(chromium_session)


def codes(browser: webdriver.Chrome) -> set[str]:
    return {
        li.get_attribute("data-code") or ""
        for li in browser.find_elements(By.CSS_SELECTOR, "#audit-findings li")
    }


def test_findings_and_chart_of_a_broken_launch(
    browser: webdriver.Chrome, mixtrack_client: Client, mixtrack_collector: Collector
) -> None:
    broken_launch(mixtrack_client)
    assert mixtrack_client.flush(timeout=10)
    browser.get(mixtrack_collector.live_url)
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: {"duplicate_exposure", "variant_flip"} <= codes(b))
    assert "missing_variant_name" in codes(browser)
    errors = browser.find_elements(By.CSS_SELECTOR, "#audit-findings li.error")
    assert errors and all(li.is_displayed() for li in errors)
    assert "exposed more than once" in browser.find_element(By.ID, "audit").text
    bars = browser.find_elements(By.CSS_SELECTOR, "#audit svg.variant-chart rect.bar")
    assert sorted(b.get_attribute("data-variant") or "" for b in bars) == ["grid", "list"]
    users = sum(int(b.get_attribute("data-users") or 0) for b in bars)
    assert users == 60
    assert all(float(b.get_attribute("width") or 0) > 0 for b in bars)


def test_clean_launch_says_so(
    browser: webdriver.Chrome, mixtrack_client: Client, mixtrack_collector: Collector
) -> None:
    clean_launch(mixtrack_client)
    assert mixtrack_client.flush(timeout=10)
    browser.get(mixtrack_collector.live_url)
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.ID, "audit-clean"))
    assert browser.find_element(By.ID, "audit-clean").text == "No problems found."
    assert not browser.find_elements(By.CSS_SELECTOR, "#audit-findings li")
    assert browser.find_elements(By.CSS_SELECTOR, "#audit svg.variant-chart")


def test_readout_panel_for_the_chosen_experiment(
    browser: webdriver.Chrome, mixtrack_client: Client, mixtrack_collector: Collector
) -> None:
    clean_launch(mixtrack_client)
    assert mixtrack_client.flush(timeout=10)
    browser.get(mixtrack_collector.live_url)
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#audit h3[data-experiment]"))
    browser.find_element(By.CSS_SELECTOR, "#audit h3[data-experiment]").click()
    browser.find_element(By.ID, "readout-metric").send_keys("Order completed")
    browser.find_element(By.CSS_SELECTOR, "#readout-form button").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#readout-chart svg.rate-chart"))
    bars = browser.find_elements(By.CSS_SELECTOR, "#readout-chart rect.bar")
    assert sorted(b.get_attribute("data-variant") or "" for b in bars) == ["grid", "list"]
    panel = browser.find_element(By.ID, "readout")
    assert "pricing_page_layout" in panel.text.lower()
    browser.execute_script("arguments[0].scrollIntoView()", panel)
    assert panel.screenshot(str(Path(tempfile.gettempdir()) / "mixtrack-live-readout.png"))
