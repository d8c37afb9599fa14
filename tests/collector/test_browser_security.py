"""Headless Chromium on another loopback origin: it can send events, not read, reset or fault."""

from __future__ import annotations

import pytest
from selenium import webdriver

from mixtrack.testing._collector import Collector
from tests.collector._browser import chromium_session, static_site

PAGE = """<!doctype html><html><head><script src="mixpanel.js"></script></head><body><script>
  mixpanel.init("browser-token", {api_host: "%(api_host)s", batch_flush_interval_ms: 100});
  mixpanel.track("From another origin");
</script></body></html>"""

ATTACK = """
const [api, done] = arguments;
const outcome = async (request) => {
  try { const r = await request(); return r.type === "opaque" ? "opaque" : await r.text(); }
  catch (error) { return "blocked"; }
};
const plain = (body) => ({
  method: "POST", mode: "no-cors", body, headers: {"Content-Type": "text/plain"}
});
const fault = '{"kind": "status", "count": 5}';
(async () => done({
  read: await outcome(() => fetch(api + "/_mixtrack/events")),
  stats: await outcome(() => fetch(api + "/_mixtrack/stats", {credentials: "include"})),
  reset: await outcome(() => fetch(api + "/_mixtrack/reset", plain(""))),
  fault: await outcome(() => fetch(api + "/_mixtrack/faults", plain(fault))),
  forged: await outcome(() => fetch(api + "/_mixtrack/reset", {
    method: "POST", body: "{}",
    headers: {"Content-Type": "application/json", "X-Mixtrack-Control": "1"}})),
  deleted: await outcome(() => fetch(api + "/_mixtrack/faults", {method: "DELETE"})),
}))();
"""

browser = pytest.fixture(scope="module", name="browser")(chromium_session)


def test_a_page_on_another_origin_sends_events_but_cannot_read_reset_or_fault(
    browser: webdriver.Chrome, collector: Collector
) -> None:
    with static_site({"index.html": PAGE % {"api_host": collector.url}}) as site:
        browser.get(site.replace("127.0.0.1", "localhost") + "/index.html")
        assert collector.wait_for(1, timeout=15), "the page could not send its event"
        results = browser.execute_async_script(ATTACK, collector.url)
    assert results["read"] == "blocked" and results["stats"] == "blocked"
    assert results["forged"] == "blocked" and results["deleted"] == "blocked"
    assert results["reset"] == "opaque" and results["fault"] == "opaque"  # sent, refused
    assert [e["event"] for e in collector.events()] == ["From another origin"]
    assert collector.stats()["faults_active"] == 0
    assert collector.rejected() == []
