"""Simulated visitors for the example shop (see ``examples/SHOP.md``): browse, see the pricing
page, sign up, log in again, buy. Plain HTTP with a cookie jar per visitor, as a browser does."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import attrs
import httpx

# Simulated visitors stand for people: httpx's own User-Agent is on the crawler list, and
# the web layer exposes no crawler.
VISITOR_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"

__all__ = ["Traffic", "TrafficReport", "simulate_visitor"]

PRODUCTS = ("starter", "pro", "team", "enterprise")
_CSRF = re.compile(
    r'name="(csrfmiddlewaretoken|csrf_token)"\s+value="([^"]+)"|value="([^"]+)"\s+name="(csrfmiddlewaretoken|csrf_token)"'
)
_LAYOUT = re.compile(r'data-layout="(\w+)"')

#: Chance to buy after seeing the pricing page, by layout: the demo's "true" effect.
BUY_RATE = {"grid": 0.12, "list": 0.18, None: 0.08}


@attrs.define
class TrafficReport:
    visitors: int = 0
    requests: int = 0
    signups: int = 0
    orders: int = 0
    errors: int = 0
    layouts: Counter[str] = attrs.field(factory=Counter)


def _form(page: httpx.Response, fields: dict[str, str]) -> dict[str, str]:
    match = _CSRF.search(page.text)
    if match:
        name = match.group(1) or match.group(4)
        fields[name] = match.group(2) or match.group(3)
    return fields


def simulate_visitor(
    http: httpx.Client, number: int, rng: random.Random, report: TrafficReport
) -> None:
    """One visitor's journey through the shop."""

    def get(path: str) -> httpx.Response:
        report.requests += 1
        response = http.get(path)
        if response.status_code >= 400:
            report.errors += 1
        return response

    def post(path: str, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
        report.requests += 1
        headers = {"Referer": str(page.url)}
        token = http.cookies.get("csrftoken")  # Django's CSRF cookie, echoed as a header
        if token:
            headers["X-CSRFToken"] = token
        response = http.post(path, data=_form(page, fields), headers=headers)
        if response.status_code >= 400:
            report.errors += 1
        return response

    get("/")
    if rng.random() < 0.6:
        get(f"/products/{rng.choice(PRODUCTS)}")
    layout = None
    if rng.random() < 0.8:
        pricing = get("/pricing")
        found = _LAYOUT.search(pricing.text)
        layout = found.group(1) if found else None
        if layout:
            report.layouts[layout] += 1
        if rng.random() < 0.3:
            get("/pricing")  # a reload: still one exposure
    signed_up = False
    if rng.random() < 0.35:
        page = get("/signup")
        username = f"visitor{number}-{rng.randrange(10**6)}"
        post(
            "/signup",
            page,
            {"username": username, "password": "demo-pass-1", "plan": rng.choice(["free", "pro"])},
        )
        signed_up = True
        report.signups += 1
        if rng.random() < 0.2:  # comes back later: log out, log in
            page = get("/")
            post("/logout", page, {})
            page = get("/login")
            post("/login", page, {"username": username, "password": "demo-pass-1"})
            get("/pricing")
    rate = BUY_RATE[layout] * (1.5 if signed_up else 1.0)
    if rng.random() < rate:
        slug = rng.choice(PRODUCTS)
        page = get(f"/products/{slug}")
        post(f"/checkout/{slug}", page, {})
        report.orders += 1


class Traffic:
    """Drives ``visitors`` simulated visitors at ``base_url``, ``concurrency`` at a time."""

    def __init__(
        self, base_url: str, visitors: int, *, concurrency: int = 8, seed: int = 42
    ) -> None:
        self.base_url = base_url
        self.visitors = visitors
        self.concurrency = concurrency
        self.seed = seed
        self.report = TrafficReport()
        self._lock = threading.Lock()

    def run(self, on_progress: Callable[[int], None] | None = None) -> TrafficReport:
        done = 0

        def one(number: int) -> None:
            nonlocal done
            rng = random.Random(self.seed * 100_003 + number)
            local = TrafficReport()
            with httpx.Client(
                base_url=self.base_url,
                follow_redirects=True,
                timeout=30,
                trust_env=False,
                headers={"User-Agent": VISITOR_AGENT},
            ) as http:
                try:
                    simulate_visitor(http, number, rng, local)
                except httpx.HTTPError:
                    local.errors += 1
            with self._lock:
                self._merge(local)
                done += 1
                if on_progress is not None:
                    on_progress(done)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(one, range(self.visitors)))
        return self.report

    def _merge(self, local: TrafficReport) -> None:
        report = self.report
        report.visitors += 1
        report.requests += local.requests
        report.signups += local.signups
        report.orders += local.orders
        report.errors += local.errors
        report.layouts.update(local.layouts)
