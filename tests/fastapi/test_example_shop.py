"""examples/fastapi_shop under uvicorn: the events of examples/SHOP.md, one identity per person."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests._agents import PERSON
from tests._redis import free_port

ROOT = Path(__file__).resolve().parents[2]


def _layout(html: str) -> str:
    return html.split('data-layout="', 1)[1].split('"', 1)[0]


def test_the_example_shop_sends_the_events_of_its_spec(
    mixtrack_collector: Any, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIXTRACK_")}
    env.update(
        MIXTRACK_API_HOST=mixtrack_collector.url,
        MIXTRACK_FLUSH_INTERVAL="0.05",
        SHOP_DATABASE=str(tmp_path / "users.sqlite3"),
        PYTHONPATH=str(ROOT),
        NO_PROXY="127.0.0.1,localhost",
    )
    log = (tmp_path / "shop.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "examples.fastapi_shop", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "shop.log").read_text()
            try:
                if httpx.get(url + "/health", timeout=1, trust_env=False).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the shop did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=url, headers=PERSON, trust_env=False, timeout=20) as shop:
            assert shop.get("/").status_code == 200
            assert shop.get("/products/pro").status_code == 200
            assert shop.get("/products/nothing").status_code == 404
            layouts = {_layout(shop.get("/pricing").text) for _ in range(2)}
            signup = {"username": "grace", "password": "pw", "plan": "pro"}
            assert shop.post("/signup", data=signup).status_code == 302
            layouts.add(_layout(shop.get("/pricing").text))
            assert shop.post("/checkout/team").status_code == 200
            assert shop.post("/logout").status_code == 302
            login = {"username": "grace", "password": "pw"}
            assert shop.post("/login", data=login).status_code == 302
            assert shop.post("/login", data={**login, "password": "no"}).status_code == 401
        assert len(layouts) == 1
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    assert server.returncode in (0, -15)  # uvicorn re-raises SIGTERM after its graceful stop

    expected = {
        "Viewed home": 1,
        "Viewed product": 1,
        "$experiment_started": 1,
        "Viewed pricing": 3,
        "Signed up": 1,
        "Order completed": 1,
        "Logged in": 1,
        "$identify": 2,
    }
    for name, count in expected.items():
        mixtrack_collector.wait_for(count, name, timeout=10.0)
    names = Counter(event["event"] for event in mixtrack_collector.events())
    assert {name: names[name] for name in expected} == expected
    [exposure] = mixtrack_collector.events("$experiment_started")
    assert {exposure["properties"]["Variant name"]} == layouts
    [signed_up] = mixtrack_collector.events("Signed up", plan="pro")
    user = signed_up["properties"]["distinct_id"]
    assert user.startswith("user-")
    [order] = mixtrack_collector.events("Order completed")
    assert order["properties"]["distinct_id"] == user and order["properties"]["revenue"] == 99.0
    assert order["properties"]["$user_id"] == user
    assert order["properties"]["$device_id"] == exposure["properties"]["$device_id"]
    # The visit before signing up and the one after logging out both join the user.
    assert exposure["properties"]["distinct_id"] in mixtrack_collector.identity(user)
    assert len(mixtrack_collector.identity(user)) == 3
    assert mixtrack_collector.profile(user) == {"$name": "grace", "plan": "pro"}
