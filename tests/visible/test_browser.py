"""Exposure when visible in real headless Chromium, against real apps on real servers.

One browser for the module; every app sends to the real collector.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver

from mixtrack.testing import Collector
from tests._agents import CHROME
from tests.collector._browser import chromium_session
from tests.visible import _scenarios as scenario
from tests.visible import _servers
from tests.visible.apps import core_app


@pytest.fixture(scope="module", name="browser")
def browser_as_a_person() -> Iterator[webdriver.Chrome]:
    """Chromium with a desktop Chrome User-Agent: headless Chromium is on the crawler list."""
    yield from chromium_session(CHROME)


@pytest.fixture(scope="module", params=["core", "django", "flask", "fastapi"])
def app_url(
    request: pytest.FixtureRequest,
    _mixtrack_collector_session: Collector,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The app on a real server: the plain WSGI app on the core, then each framework's."""
    api_host = _mixtrack_collector_session.url
    if request.param == "core":
        with core_app.serve(api_host) as url:
            yield url
        return
    with _servers.serve(request.param, api_host, tmp_path_factory.mktemp("servers")) as url:
        yield url


def test_below_the_fold_is_exposed_once_when_scrolled_into_view(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector
) -> None:
    scenario.below_the_fold(browser, app_url, mixtrack_collector)


def test_a_background_tab_sends_nothing_until_shown(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector
) -> None:
    scenario.background_tab(browser, app_url, mixtrack_collector)


def test_a_hidden_window_sends_nothing_until_shown(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector
) -> None:
    scenario.hidden_window(browser, app_url, mixtrack_collector)


def test_forged_and_replayed_tokens_are_refused(
    browser: webdriver.Chrome, app_url: str, mixtrack_collector: Collector
) -> None:
    scenario.refused_tokens(browser, app_url, mixtrack_collector)
    scenario.live_view_counts_never_seen(browser, mixtrack_collector)
