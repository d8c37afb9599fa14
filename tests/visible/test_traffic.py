"""Traffic that is not a person, against Django, Flask and FastAPI on real servers.

Crawlers, opted-out visitors and pages loaded in the background get their page and
variant, and the real collector gets no exposure for them; a prefetched or prerendered page
in headless Chromium (speculation rules) is exposed once when navigated to, never before.
The exposure endpoint refuses hostile bodies without reading them whole.
"""

from __future__ import annotations

import select
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from mixtrack.audit import readout
from mixtrack.testing import Collector
from tests._agents import CHROME, FIREFOX, GOOGLEBOT, GPTBOT, PERSON, UPTIME_ROBOT
from tests.collector._browser import chromium_session

EXPOSURE = "$experiment_started"


@pytest.fixture(scope="module", name="browser")
def browser_as_a_person() -> Iterator[webdriver.Chrome]:
    yield from chromium_session(CHROME)


def _stats(url: str) -> dict:
    return httpx.get(url + "/_test/stats", headers=PERSON, trust_env=False, timeout=10).json()


def _settled(collector: Collector, seconds: float = 1.5) -> None:
    """Give the apps' clients (50 ms flush interval) time to deliver anything they would."""
    time.sleep(seconds)
    collector.events()


@pytest.mark.parametrize(
    "headers, cookies",
    [
        ({"User-Agent": GOOGLEBOT}, {}),
        ({"User-Agent": GPTBOT}, {}),
        ({"User-Agent": UPTIME_ROBOT}, {}),
        ({"User-Agent": FIREFOX, "Sec-GPC": "1"}, {}),
        ({"User-Agent": FIREFOX}, {"__mp_opt_in_out_visible-token": "0"}),
        ({"User-Agent": FIREFOX, "Sec-Purpose": "prefetch"}, {}),
    ],
    ids=["googlebot", "gptbot", "uptime-robot", "sec-gpc", "opt-out-cookie", "bare-prefetch"],
)
def test_requests_that_are_not_a_person_expose_nothing(
    app_url: str, mixtrack_collector: Collector, headers: dict, cookies: dict
) -> None:
    page = "/bare" if "Sec-Purpose" in headers else "/rendered"
    for _ in range(3):
        with httpx.Client(headers=headers, cookies=cookies, trust_env=False, timeout=10) as http:
            answer = http.get(app_url + page)
            assert answer.status_code == 200
            assert any(f'data-variant="{name}"' in answer.text for name in ("control", "discount"))
    _settled(mixtrack_collector)
    assert mixtrack_collector.events(EXPOSURE) == []
    assert mixtrack_collector.events("Viewed offer") == []
    # The same page for a person is exposed: the zero above is the classification's doing.
    httpx.get(app_url + "/rendered", headers=PERSON, trust_env=False, timeout=10)
    assert len(mixtrack_collector.wait_for(1, EXPOSURE, timeout=10)) == 1
    assert len(mixtrack_collector.wait_for(1, "Viewed offer", timeout=10)) == 1


def test_a_bare_page_loaded_in_the_background_is_counted(app_url: str) -> None:
    before = _stats(app_url)["unscripted"]
    headers = {"User-Agent": FIREFOX, "Sec-Purpose": "prefetch;prerender"}
    httpx.get(app_url + "/bare", headers=headers, trust_env=False, timeout=10)
    assert _stats(app_url)["unscripted"] == before + 1


@pytest.mark.parametrize("action", ["prefetch", "prerender"])
def test_speculation_rules_expose_only_the_page_that_is_shown(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector, action: str
) -> None:
    browser.delete_all_cookies()
    target = f"/rendered?visit={uuid.uuid4().hex}"
    speculative_before = _stats(app_url)["traffic"].get("speculative", 0)
    browser.get(f"{app_url}/launch/{action}?to={target}")
    deadline = time.monotonic() + 15
    while _stats(app_url)["traffic"].get("speculative", 0) == speculative_before:
        assert time.monotonic() < deadline, f"Chromium never {action}ed {target}"
        time.sleep(0.2)
    _settled(mixtrack_collector)
    assert mixtrack_collector.events(EXPOSURE) == [], "a page nobody saw was exposed"
    assert mixtrack_collector.events("Viewed offer") == []

    browser.find_element(By.ID, "go").click()
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=15)
    [viewed] = mixtrack_collector.wait_for(1, "Viewed offer", timeout=15)
    shown = browser.find_element(By.ID, "offer").get_attribute("data-variant")
    assert exposure["properties"]["Variant name"] == shown
    assert viewed["properties"]["distinct_id"] == exposure["properties"]["distinct_id"]
    _settled(mixtrack_collector)
    assert len(mixtrack_collector.events(EXPOSURE)) == 1
    # The page was served from the speculation, not fetched again on the click.
    assert _stats(app_url)["traffic"].get("speculative", 0) == speculative_before + 1


def test_a_nested_json_beacon_is_a_400(app_url: str) -> None:
    body = "[" * 2000 + "]" * 2000
    answer = httpx.post(
        app_url + "/_mixtrack/exposure",
        content=body,
        headers={**PERSON, "Content-Type": "application/json"},
        trust_env=False,
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed"


def _post_huge(url: str, size: int) -> int:
    """POST ``size`` bytes to the exposure endpoint, stopping as soon as an answer comes."""
    parts = urlsplit(url)
    head = (
        f"POST /_mixtrack/exposure HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"User-Agent: {FIREFOX}\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    chunk = b"x" * 65536
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head)
        sent = 0
        while sent < size:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk[: size - sent])
            except OSError:
                break
            sent += len(chunk)
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1])


def test_a_50_mb_beacon_is_a_413_without_reading_it(app_url: str) -> None:
    _post_huge(app_url, 1024 * 1024)  # warm up the endpoint's code paths
    before = _stats(app_url)["maxrss_kb"]
    assert _post_huge(app_url, 50 * 1024 * 1024) == 413
    growth_kb = _stats(app_url)["maxrss_kb"] - before
    assert growth_kb < 5 * 1024, f"the server grew by {growth_kb} kB for one refused beacon"


def test_mixpanel_browser_on_the_page_is_the_same_person(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector
) -> None:
    browser.delete_all_cookies()
    browser.get(app_url + "/buy")
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=15)
    [purchase] = mixtrack_collector.wait_for(1, "Purchased", timeout=15)
    server, client = exposure["properties"], purchase["properties"]
    # One device id, one distinct_id: the browser adopted the cookie the server wrote.
    assert client["$device_id"] == server["$device_id"]
    assert client["distinct_id"] == server["distinct_id"] == "$device:" + server["$device_id"]
    shown = browser.find_element(By.ID, "offer").get_attribute("data-variant")
    assert server["Variant name"] == shown
    # The readout credits the browser's conversion to the variant the server showed.
    result = readout(mixtrack_collector.events(), "Purchased", experiment="offer")
    assert result.variant(shown).converted == 1
    assert sum(v.converted for v in result.variants) == 1
    # Logged in (the Flask and FastAPI apps read a "user" cookie as their login; under
    # Django it is a reload): the same person, not exposed again, one converted person.
    browser.add_cookie({"name": "user", "value": "buyer-1"})
    browser.get(app_url + "/buy")
    mixtrack_collector.wait_for(2, "Purchased", timeout=15)
    _settled(mixtrack_collector)
    assert len(mixtrack_collector.events(EXPOSURE)) == 1
    assert (
        readout(mixtrack_collector.events(), "Purchased", experiment="offer")
        .variant(shown)
        .converted
        == 1
    )
