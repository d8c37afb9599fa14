"""The HTML report in real headless Chromium: charts drawn, nothing fetched; a screenshot is
kept for a person to look at."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from mixtrack.audit import audit, readout, render_html
from tests.audit._streams import Stream
from tests.collector._browser import chromium_session

browser = pytest.fixture(scope="module", name="browser")(chromium_session)
SCREENSHOT = Path(tempfile.gettempdir()) / "mixtrack-audit-report.png"


def launch(seed: int = 3, users: int = 6000) -> Stream:
    """Three variants: ``bold`` lifts orders by a fifth, ``loud`` also doubles refunds."""
    rng = random.Random(seed)
    stream = Stream()
    for i in range(users):
        user, variant = f"u{i}", ("control", "bold", "loud")[i % 3]
        stream.expose(user, variant)
        if rng.random() < (0.10 if variant == "control" else 0.12):
            stream.add("Order completed", user, revenue=round(rng.uniform(5, 80), 2))
        if rng.random() < (0.04 if variant == "loud" else 0.02):
            stream.add("Refund requested", user)
    return stream


def test_report_page_draws_every_metric(browser: webdriver.Chrome, tmp_path: Path) -> None:
    stream = launch()
    result = readout(
        stream.events,
        ["Order completed", "Order completed:sum(revenue)", "guardrail:Refund requested:lower"],
        correction="bh",
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(audit(stream.events), result))
    browser.get(page.as_uri())
    metrics = browser.find_elements(By.CSS_SELECTOR, ".metric")
    assert [m.get_attribute("data-metric") for m in metrics] == [
        "Order completed", "Order completed:sum(revenue)", "Refund requested",
    ]  # fmt: skip
    for metric in metrics:
        bars = metric.find_elements(By.CSS_SELECTOR, "svg.rate-chart rect.bar")
        assert [b.get_attribute("data-variant") for b in bars] == ["control", "bold", "loud"]
        assert all(b.size["width"] > 0 for b in bars)
        lines = metric.find_elements(By.CSS_SELECTOR, "svg.lift-chart polyline.lift")
        assert sorted(x.get_attribute("data-variant") for x in lines) == ["bold", "loud"]
        assert all(len((x.get_attribute("points") or "").split()) > 20 for x in lines)
    assert "guardrail fails" in metrics[2].text
    # Nothing but the file itself was loaded: the page needs no network.
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert loaded == []
    browser.set_window_size(1100, 2400)
    assert browser.save_screenshot(str(SCREENSHOT))
