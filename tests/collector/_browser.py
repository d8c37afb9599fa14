"""Headless Debian Chromium through selenium, and a tiny static site on its own origin."""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BROWSER_DIST = Path(__file__).resolve().parents[1] / "node/node_modules/mixpanel-browser/dist"


def chromium(profile_dir: str, user_agent: str | None = None) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(flag)
    if user_agent is not None:  # every request, prefetches included (headless is a crawler)
        options.add_argument(f"--user-agent={user_agent}")
    # An explicit chromedriver path: Selenium Manager never downloads anything.
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    return driver


def chromium_session(user_agent: str | None = None) -> Iterator[webdriver.Chrome]:
    """One headless Chromium with a profile of its own, quit at the end; test modules
    use it as ``browser = pytest.fixture(scope="module", name="browser")(chromium_session)``.

    ``user_agent`` replaces Chromium's own (``HeadlessChrome`` is on the crawler list)."""
    with tempfile.TemporaryDirectory(prefix="mixtrack-chromium-") as profile:
        driver = chromium(profile, user_agent)
        try:
            yield driver
        finally:
            driver.quit()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_site(pages: dict[str, str]) -> Iterator[str]:
    """Serve ``pages`` plus mixpanel-browser's dist files from 127.0.0.1 on a free port."""
    root = Path(tempfile.mkdtemp(prefix="mixtrack-site-"))
    shutil.copy(BROWSER_DIST / "mixpanel.umd.js", root / "mixpanel.js")
    for name, text in pages.items():
        (root / name).write_text(text)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)
