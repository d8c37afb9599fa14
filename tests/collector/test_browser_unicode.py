"""Real headless Chromium: mixpanel-browser sending text outside the Basic Multilingual Plane.

mixpanel-browser's base64 encoder writes each UTF-16 half of an emoji as its own UTF-8
sequence; Mixpanel accepts that, and so must the collector: every transport (XHR batches,
sendBeacon, GET), every event of the request, stored as proper Unicode.
"""

from __future__ import annotations

import json

import pytest
from selenium import webdriver

from mixtrack.testing._collector import Collector
from tests.collector._browser import chromium_session, static_site

TEXT = "🌳 Tree-Café 𠮷野家 👩🏽‍💻"
#: 254 UTF-16 units of "a" and an emoji: mixpanel-browser cuts strings at 255 units, so the
#: emoji loses its low half on the way.
CUT = "a" * 254 + "😀"

PAGE = """<!doctype html><html><head><script src="mixpanel.js"></script></head><body><script>
  mixpanel.init("browser-token", {
    api_host: "%(api_host)s", batch_flush_interval_ms: 100, persistence: "localStorage",
    api_method: "%(method)s", batch_requests: %(batch)s
  });
  const text = %(text)s, cut = %(cut)s;
  for (let i = 0; i < 3; i++) mixpanel.track("Planted " + text, {text: text, n: i});
  mixpanel.track("Long", {cut: cut});
  mixpanel.track("Beacon " + text, {text: text}, {transport: "sendBeacon", send_immediately: true});
</script></body></html>"""


browser = pytest.fixture(scope="module", name="browser")(chromium_session)


@pytest.mark.parametrize(
    ("method", "batch"),
    [("POST", "true"), ("GET", "false"), ("POST", "false")],
    ids=["xhr-batches", "get", "xhr-single"],
)
def test_emoji_and_astral_cjk_arrive_as_unicode(
    browser: webdriver.Chrome, collector: Collector, method: str, batch: str
) -> None:
    page = PAGE % {
        "api_host": collector.url,
        "method": method,
        "batch": batch,
        "text": json.dumps(TEXT),
        "cut": json.dumps(CUT),
    }
    with static_site({"index.html": page}) as site:
        browser.get(f"{site}/index.html")
        found = collector.wait_for(5, timeout=20)
    assert collector.rejected() == []
    planted = sorted(
        (e for e in found if e["event"] == f"Planted {TEXT}"), key=lambda e: e["properties"]["n"]
    )
    assert [e["properties"]["n"] for e in planted] == [0, 1, 2]
    assert all(e["properties"]["text"] == TEXT for e in planted)
    [beacon] = collector.events(f"Beacon {TEXT}")
    assert beacon["properties"]["text"] == TEXT
    # Half an emoji cannot be stored as text: it becomes the replacement character.
    [long] = collector.events("Long")
    assert long["properties"]["cut"] == "a" * 254 + "\ufffd"
    # The query API answers with the same text it stored.
    assert collector.events(text=TEXT)
