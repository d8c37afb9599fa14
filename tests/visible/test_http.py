"""The endpoint and helpers of each framework, over HTTP, against the apps on real servers.

What the browser tests cannot see: answers, headers, the properties of what was sent, the
ids of visitors who log in between the render and the view.
"""

from __future__ import annotations

import re

import httpx
import pytest

from mixtrack.testing import Collector
from tests.visible._scenarios import EXPOSURE, RENDERED, exposures

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def visitor(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10.0, trust_env=False, headers={"User-Agent": CHROME})


def tokens(html: str) -> dict[str, str]:
    found = re.findall(r'id="(\w+)" data-variant="\w*" data-mixtrack-exposure="([^"]+)"', html)
    return dict(found)


def beacon(client: httpx.Client, url: str, token: str, **headers: str) -> httpx.Response:
    headers = {"Origin": url, "Referer": url + "/", "Sec-Fetch-Site": "same-origin",
               "Content-Type": "text/plain;charset=UTF-8"} | headers  # fmt: skip
    return client.post("/_mixtrack/exposure", content=token, headers=headers)


def test_the_page_renders_tokens_and_the_script_and_sends_renders_only(
    app_url: str, mixtrack_collector: Collector
) -> None:
    with visitor(app_url) as browser:
        page = browser.get("/")
    assert page.status_code == 200
    assert sorted(tokens(page.text)) == ["banner", "offer"]
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"])
    assert nonce is not None
    tag = re.search(r"<script [^>]*></script>", page.text)
    assert tag is not None
    assert f'nonce="{nonce.group(1)}"' in tag.group(0)
    assert 'src="/_mixtrack/exposure.js?v=' in tag.group(0) and 'data-dwell="200"' in tag.group(0)
    renders = mixtrack_collector.wait_for(2, RENDERED, timeout=10)
    assert sorted(e["properties"]["Experiment name"] for e in renders) == ["banner", "offer"]
    assert {e["properties"]["Exposure mode"] for e in renders} == {"visible"}
    assert exposures(mixtrack_collector) == []


def test_the_script_is_served_with_caching_headers(app_url: str) -> None:
    with visitor(app_url) as browser:
        script = browser.get("/_mixtrack/exposure.js")
        assert script.status_code == 200
        assert script.headers["Content-Type"].startswith("text/javascript")
        assert script.headers["X-Content-Type-Options"] == "nosniff"
        assert b"IntersectionObserver" in script.content and b"eval(" not in script.content
        again = browser.get(
            "/_mixtrack/exposure.js", headers={"If-None-Match": script.headers["ETag"]}
        )
        assert again.status_code == 304


def test_a_beacon_exposes_once_with_the_visitors_context(
    app_url: str, mixtrack_collector: Collector
) -> None:
    with visitor(app_url) as browser:
        offer = tokens(browser.get("/").text)["offer"]
        first = beacon(browser, app_url, offer)  # no CSRF token: none is needed
        assert (first.status_code, first.json()) == (200, {"exposed": True})
        second = beacon(browser, app_url, offer)
        assert (second.status_code, second.json()) == (200, {"exposed": False, "reason": "seen"})
    [event] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=10)
    props = event["properties"]
    assert props["Experiment name"] == "offer" and props["Exposure mode"] == "visible"
    assert props["distinct_id"].startswith("$device:")
    assert props["$current_url"] == app_url + "/"  # the page seen, not the endpoint
    assert props["$browser"] == "Chrome" and props["ip"] == "127.0.0.1"
    assert "$referrer" not in props


def test_refused_beacons_send_nothing(app_url: str, mixtrack_collector: Collector) -> None:
    with visitor(app_url) as alice, visitor(app_url) as bob:
        theirs = tokens(alice.get("/").text)["offer"]
        bob.get("/")
        assert beacon(bob, app_url, theirs).json()["error"] == "not_yours"
        assert beacon(alice, app_url, theirs, Origin="https://evil.example").status_code == 403
        site = beacon(alice, app_url, theirs, **{"Sec-Fetch-Site": "cross-site"})
        assert (site.status_code, site.json()["error"]) == (403, "cross_site")
        assert beacon(alice, app_url, theirs[:-3] + "AAA").status_code == 403
        assert beacon(alice, app_url, "garbage").status_code == 400
        with visitor(app_url) as stranger:  # no cookie at all
            assert beacon(stranger, app_url, theirs).status_code == 403
        assert alice.get("/_mixtrack/exposure").status_code in (404, 405)
    mixtrack_collector.wait_for(4, RENDERED, timeout=10)
    assert exposures(mixtrack_collector) == []


def test_a_failed_page_sends_no_render(app_url: str, mixtrack_collector: Collector) -> None:
    with visitor(app_url) as browser:
        # After a server error the connection ends (uvicorn closes it): ask for that.
        assert browser.get("/broken", headers={"Connection": "close"}).status_code == 500
        browser.get("/")  # a page that works, after it
    renders = mixtrack_collector.wait_for(2, RENDERED, timeout=10)
    assert sorted(e["properties"]["Experiment name"] for e in renders) == ["banner", "offer"]


@pytest.mark.parametrize("app_url", ["flask", "fastapi"], indirect=True)
def test_tokens_across_login_and_logout(app_url: str, mixtrack_collector: Collector) -> None:
    with visitor(app_url) as browser:
        anonymous = tokens(browser.get("/").text)["offer"]
        browser.cookies.set("user", "user-42")  # logs in: the device cookie stays
        assert beacon(browser, app_url, anonymous).json() == {"exposed": True}
        banner = tokens(browser.get("/").text)["banner"]  # rendered for user-42
        browser.cookies.delete("user")  # logs out
        assert beacon(browser, app_url, banner).json()["error"] == "not_yours"
    [event] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=10)
    assert event["properties"]["distinct_id"].startswith("$device:")
