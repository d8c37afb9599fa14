"""Login and logout on Django, Flask and FastAPI pages that also run mixpanel-browser.

After logout the browser library continues under the server's fresh device id, not as the
user who left; a logged-in user who drops the anonymous cookie keeps their beacon bucket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest
from selenium import webdriver

from mixtrack.testing import Collector
from tests._agents import CHROME, PERSON
from tests.collector._browser import chromium_session
from tests.visible._scenarios import EXPOSURE
from tests.visible.apps._shared import TOKEN
from tests.visible.test_http import tokens

BROWSER_COOKIE = f"mp_{TOKEN}_mixpanel"


@pytest.fixture(scope="module", name="browser")
def browser_as_a_person() -> Iterator[webdriver.Chrome]:
    yield from chromium_session(CHROME)


def _browser_cookie(browser: webdriver.Chrome) -> dict:
    cookie = browser.get_cookie(BROWSER_COOKIE)
    assert cookie is not None, f"no {BROWSER_COOKIE} cookie"
    return dict(json.loads(unquote(cookie["value"])))


def test_after_logout_mixpanel_browser_is_a_fresh_anonymous_device(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector
) -> None:
    browser.get(app_url + "/_test/stats")  # on the app's origin, so its cookies can go
    browser.delete_all_cookies()
    user = f"leaver-{uuid.uuid4().hex[:8]}"
    browser.get(f"{app_url}/login?user={user}")
    user_id = browser.find_element("tag name", "body").text
    browser.get(app_url + "/buy")
    [before] = mixtrack_collector.wait_for(1, "Purchased", timeout=15)
    assert before["properties"]["distinct_id"] == user_id
    assert before["properties"]["$user_id"] == user_id
    old_device = before["properties"]["$device_id"]

    browser.get(app_url + "/logout")
    cookie = _browser_cookie(browser)  # what the logout response wrote, before any page runs
    assert "$user_id" not in cookie
    assert cookie["distinct_id"] == "$device:" + cookie["$device_id"] != f"$device:{old_device}"
    browser.get(app_url + "/buy")
    purchases = mixtrack_collector.wait_for(2, "Purchased", timeout=15)
    after = purchases[1]["properties"]
    assert "$user_id" not in after
    assert after["$device_id"] == cookie["$device_id"]
    assert after["distinct_id"] == cookie["distinct_id"]
    # The server's exposure of that page is the same fresh visitor's.
    exposures = mixtrack_collector.wait_for(2, EXPOSURE, timeout=15)
    assert exposures[1]["properties"]["distinct_id"] == after["distinct_id"]
    # And nothing joins the fresh device to the user who left.
    assert after["distinct_id"] not in mixtrack_collector.identity(user_id)
    assert f"$device:{old_device}" in mixtrack_collector.identity(user_id)


def test_a_logged_in_user_who_drops_the_anonymous_cookie_keeps_their_bucket(
    app_url: str,
) -> None:
    def logged_in(user: str) -> tuple[httpx.Cookies, str]:
        """A login, its cookies alone (no device id, no mixpanel-browser cookie) and the
        offer's exposure token issued to the user."""
        with httpx.Client(headers=PERSON, trust_env=False, timeout=10) as http:
            http.get(f"{app_url}/login?user={user}")
            token = tokens(http.get(app_url + "/").text)["offer"]
            kept = httpx.Cookies()
            for name in ("user", "sessionid"):  # Flask/FastAPI's login; Django's session
                if name in http.cookies:
                    kept.set(name, http.cookies[name])
            return kept, token

    def post(cookies: httpx.Cookies, token: str) -> int:
        headers = {**PERSON, "Content-Type": "text/plain"}
        with httpx.Client(cookies=cookies, trust_env=False, timeout=10) as fresh:
            return fresh.post(
                app_url + "/_mixtrack/exposure", content=token, headers=headers
            ).status_code

    cookies, token = logged_in(f"dropper-{uuid.uuid4().hex[:8]}")
    statuses = [post(cookies, token) for _ in range(40)]
    # A bucket per cookie would never empty: every request would be a new anonymous visitor.
    assert 429 in statuses, statuses
    limited = statuses.index(429)
    assert limited >= 20 and set(statuses[:limited]) == {200}, statuses  # the burst, then 429
    # Another user has a bucket of their own.
    other_cookies, other_token = logged_in(f"other-{uuid.uuid4().hex[:8]}")
    assert post(other_cookies, other_token) == 200
