"""What a visitor does in headless Chromium, and what must (not) reach the collector.

Every app under test serves the page of :mod:`tests.visible._page` at ``/``, the exposure
script and endpoint, and ``/_test/stats`` (its beacon counters), on a real server that
sends to the real collector.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mixtrack.testing import Collector
from tests.visible._page import DWELL

EXPOSURE = "$experiment_started"
RENDERED = "Experiment rendered"
WAIT = 20.0


def stats(url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(url + "/_test/stats", timeout=10, trust_env=False).json()
    return answer


def wait_stats(url: str, check: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        now = stats(url)
        if check(now) or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def exposures(collector: Collector, experiment: str | None = None) -> list[dict[str, Any]]:
    found = collector.events(EXPOSURE)
    return [
        e for e in found if experiment is None or e["properties"]["Experiment name"] == experiment
    ]


def new_visitor(browser: webdriver.Chrome, url: str) -> None:
    """Open the page as a visitor the app has never seen."""
    browser.get(url + "/_test/stats")  # on the app's origin, so its cookies can be deleted
    browser.delete_all_cookies()
    browser.get(url + "/")
    wait_ready(browser)


def wait_ready(browser: webdriver.Chrome) -> None:
    WebDriverWait(browser, WAIT).until(
        lambda b: b.execute_script("return !!(window.mixtrackExposure && mixtrackExposure.ready)")
    )


def sent(browser: webdriver.Chrome) -> list[str]:
    tokens: list[str] = browser.execute_script("return mixtrackExposure.sent.slice()")
    return tokens


def scroll_to(browser: webdriver.Chrome, element_id: str) -> None:
    browser.execute_script(f"document.getElementById('{element_id}').scrollIntoView()")


def shown(browser: webdriver.Chrome, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).get_attribute("data-variant") or ""


def token_of(browser: webdriver.Chrome, element_id: str) -> str:
    element = browser.find_element(By.ID, element_id)
    return element.get_attribute("data-mixtrack-exposure") or ""


def post_token(browser: webdriver.Chrome, body: str) -> int:
    """POST ``body`` to the exposure endpoint from the page, as a script of the page would."""
    status: int = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch("/_mixtrack/exposure", {method: "POST", body: arguments[0],
               headers: {"Content-Type": "text/plain"}, credentials: "same-origin"})
          .then((r) => done(r.status), () => done(-1));
        """,
        body,
    )
    return status


def quiet_moment() -> None:
    """Several dwell times: long enough for a beacon that should not come to have come."""
    time.sleep(DWELL * 5)


# -- the scenarios ----------------------------------------------------------------------


def below_the_fold(browser: webdriver.Chrome, url: str, collector: Collector) -> None:
    """Nothing for the offer until it is scrolled into view, then exactly one; a reload and
    a second scroll send none."""
    before = stats(url)
    new_visitor(browser, url)
    [banner] = collector.wait_for(1, EXPOSURE, timeout=WAIT)  # at the top: seen at once
    assert banner["properties"]["Experiment name"] == "banner"
    assert banner["properties"]["Exposure mode"] == "visible"
    visitor = banner["properties"]["distinct_id"]
    renders = collector.wait_for(2, RENDERED, timeout=WAIT)
    assert sorted(e["properties"]["Experiment name"] for e in renders) == ["banner", "offer"]
    quiet_moment()
    assert exposures(collector, "offer") == []
    assert len(sent(browser)) == 1  # the banner's beacon only

    variant = shown(browser, "offer")
    scroll_to(browser, "offer")
    found = collector.wait_for(2, EXPOSURE, timeout=WAIT)
    [offer] = [e for e in found if e["properties"]["Experiment name"] == "offer"]
    props = offer["properties"]
    assert (props["distinct_id"], props["Variant name"]) == (visitor, variant)
    assert props["Exposure mode"] == "visible"
    after = wait_stats(url, lambda s: s["exposed"] >= before["exposed"] + 2)
    assert after["exposed"] == before["exposed"] + 2 and after["beacons"] == before["beacons"] + 2

    # Scroll away and back: this page posted its tokens once and watches them no more.
    browser.execute_script("window.scrollTo(0, 0)")
    scroll_to(browser, "offer")
    quiet_moment()
    assert len(sent(browser)) == 2
    # A reload and a second scroll: the new page posts both again; the ledger says seen.
    browser.refresh()
    wait_ready(browser)
    browser.execute_script("window.scrollTo(0, 0)")  # a reload keeps the scroll position
    wait_stats(url, lambda s: s["duplicates"] >= before["duplicates"] + 1)
    scroll_to(browser, "offer")
    again = wait_stats(url, lambda s: s["duplicates"] >= before["duplicates"] + 2)
    assert again["duplicates"] == before["duplicates"] + 2
    assert again["exposed"] == before["exposed"] + 2
    assert len(exposures(collector)) == 2
    assert len(collector.events(RENDERED)) == 2  # the reload renders what was already seen


def background_tab(browser: webdriver.Chrome, url: str, collector: Collector) -> None:
    """A page opened in a background tab sends nothing until the tab is shown."""
    before = stats(url)
    browser.get(url + "/_test/stats")
    browser.delete_all_cookies()
    home = browser.current_window_handle
    opened = set(browser.window_handles)
    browser.execute_cdp_cmd("Target.createTarget", {"url": url + "/", "background": True})
    WebDriverWait(browser, WAIT).until(lambda b: len(set(b.window_handles) - opened) == 1)
    [tab] = set(browser.window_handles) - opened
    renders = collector.wait_for(2, RENDERED, timeout=WAIT)  # the page was delivered
    assert len(renders) == 2
    quiet_moment()
    assert stats(url)["beacons"] == before["beacons"]
    assert exposures(collector) == []

    browser.switch_to.window(tab)  # the visitor looks at the tab
    assert browser.execute_script("return document.visibilityState") == "visible"
    [banner] = collector.wait_for(1, EXPOSURE, timeout=WAIT)
    assert banner["properties"]["Experiment name"] == "banner"
    quiet_moment()
    assert [e["properties"]["Experiment name"] for e in exposures(collector)] == ["banner"]
    browser.close()
    browser.switch_to.window(home)


def hidden_window(browser: webdriver.Chrome, url: str, collector: Collector) -> None:
    """A page loaded while its window is minimized: the script runs, the banner is in view,
    and nothing is sent until the window is shown again."""
    before = stats(url)
    browser.get(url + "/_test/stats")
    browser.delete_all_cookies()
    browser.minimize_window()
    try:
        browser.get(url + "/")
        wait_ready(browser)
        assert browser.execute_script("return document.visibilityState") == "hidden"
        quiet_moment()
        assert sent(browser) == [] and stats(url)["beacons"] == before["beacons"]
    finally:
        browser.set_window_rect(width=1400, height=900)
    assert browser.execute_script("return document.visibilityState") == "visible"
    [banner] = collector.wait_for(1, EXPOSURE, timeout=WAIT)
    assert banner["properties"]["Experiment name"] == "banner"
    assert len(sent(browser)) == 1


def refused_tokens(browser: webdriver.Chrome, url: str, collector: Collector) -> None:
    """A forged token, and a token replayed by another visitor, get a 4xx and send nothing."""
    before = stats(url)
    new_visitor(browser, url)
    collector.wait_for(1, EXPOSURE, timeout=WAIT)  # the banner, seen at once
    theirs = token_of(browser, "offer")
    payload, _, signature = theirs.partition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert post_token(browser, forged) == 403
    assert post_token(browser, "not-a-token") == 400

    new_visitor(browser, url)  # someone else, on the same site
    collector.wait_for(2, EXPOSURE, timeout=WAIT)
    assert post_token(browser, theirs) == 403
    after = wait_stats(url, lambda s: sum(s["refused"].values()) >= 3)
    refused = {k: v - before["refused"].get(k, 0) for k, v in after["refused"].items()}
    assert {k: v for k, v in refused.items() if v} == {"forged": 1, "malformed": 1, "not_yours": 1}
    quiet_moment()
    assert exposures(collector, "offer") == []
    assert [e["properties"]["Experiment name"] for e in exposures(collector)] == ["banner"] * 2


def live_view_counts_never_seen(browser: webdriver.Chrome, collector: Collector) -> None:
    """After :func:`refused_tokens`: two visitors rendered the offer, neither saw it."""
    browser.get(collector.live_url)
    selector = '#audit p.unseen[data-experiment="offer"]'
    WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, selector))
    line = browser.find_element(By.CSS_SELECTOR, selector)
    assert line.get_attribute("data-never-seen") == "2"
    assert "offer: 2 of 2 rendered never seen" in line.text
