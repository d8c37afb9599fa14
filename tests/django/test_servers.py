"""Real servers in subprocesses: gunicorn (3 workers, --preload) and uvicorn (ASGI)."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.conf import settings

from mixtrack.web import CookieSigner
from tests._agents import PERSON

EXPOSURE = "$experiment_started"
COOKIE = "mixtrack_anon"


def _cookie_for(anon_id: str) -> str:
    """The signed cookie the middleware would set for ``anon_id`` (same SECRET_KEY)."""
    return CookieSigner(settings.SECRET_KEY).sign(anon_id.removeprefix("$device:"))


def test_cache_ledger_exposes_once_across_gunicorn_workers(
    mixtrack_collector: Any, redis_url: str, start_server: Any
) -> None:
    server = start_server(
        [
            "-m", "gunicorn", "tests.django.wsgi:application",
            "--preload", "--workers", "3", "--bind", "127.0.0.1:{port}",
            "--graceful-timeout", "10", "--log-level", "warning",
        ],
        MIXTRACK_API_HOST=mixtrack_collector.url,
        MIXTRACK_TEST_REDIS_URL=redis_url,
    )  # fmt: skip
    visitors = [f"$device:gunicorn-visitor-{n}" for n in range(12)]
    requests = [visitor for visitor in visitors for _ in range(10)]
    random.Random(7).shuffle(requests)

    with httpx.Client(base_url=server.url, headers=PERSON, trust_env=False, timeout=20) as http:

        def visit(anon_id: str) -> tuple[int, str]:
            response = http.get("/pricing", headers={"Cookie": f"{COOKIE}={_cookie_for(anon_id)}"})
            return response.status_code, response.headers["X-Worker-Pid"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(visit, requests))

    assert {status for status, _ in answers} == {200}
    assert len({pid for _, pid in answers}) >= 2, "the load reached one worker only"
    mixtrack_collector.wait_for(len(visitors), EXPOSURE, timeout=15)
    assert server.stop() == 0  # SIGTERM: each worker drains its client on the way out

    exposures = mixtrack_collector.events(EXPOSURE)
    per_visitor = Counter(e["properties"]["distinct_id"] for e in exposures)
    assert per_visitor == dict.fromkeys(visitors, 1)
    assert len(mixtrack_collector.events("Viewed pricing")) == len(requests)


def test_uvicorn_asgi_async_and_sync_views(mixtrack_collector: Any, start_server: Any) -> None:
    server = start_server(
        [
            "-m", "uvicorn", "tests.django.asgi:application",
            "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning",
        ],
        MIXTRACK_API_HOST=mixtrack_collector.url,
    )  # fmt: skip
    with httpx.Client(base_url=server.url, headers=PERSON, trust_env=False, timeout=20) as http:
        pages = [http.get("/async/pricing") for _ in range(5)]
        pages += [http.get("/pricing") for _ in range(5)]
        answer = http.get("/async/api/layout").json()
        streamed = http.get("/async/stream").text
        assert http.get("/pricing/500").status_code == 500
        other = httpx.get(f"{server.url}/pricing/404", headers=PERSON, trust_env=False, timeout=20)
        assert other.status_code == 404

    assert {page.status_code for page in pages} == {200}
    assert len({page.text for page in pages}) == 1
    assert f">{answer['layout']}<" in pages[0].text and answer["layout"] in streamed
    mixtrack_collector.wait_for(11, timeout=15)
    # uvicorn re-raises SIGTERM after its graceful shutdown, so -15 is a clean exit too.
    assert server.stop() in (0, -15)

    exposures = mixtrack_collector.events(EXPOSURE)
    assert [e["properties"]["distinct_id"] for e in exposures] == [answer["distinct_id"]]
    assert len(mixtrack_collector.events("Viewed pricing")) == 10
