"""The example shop on real servers: its own ``python -m`` runner, and gunicorn with three
``--preload`` workers sharing a Redis ledger, all sending to the real collector."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests._agents import PERSON
from tests._redis import free_port

from .conftest import exposures, gunicorn_command, python_command

VISITORS = 6
RENDERS = 8


def server_env(collector: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "MIXTRACK_API_HOST": collector.url,
        "MIXTRACK_TOKEN": "shop-test-token",
        "MIXTRACK_FLUSH_INTERVAL": "0.05",
        "SHOP_DATABASE": str(tmp_path / "shop.sqlite3"),
        **extra,
    }


def browser(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=PERSON, timeout=10.0, trust_env=False)


def layout_of(page: str) -> str:
    return "list" if 'data-layout="list"' in page else "grid"


def test_the_shop_under_gunicorn_exposes_once_per_visitor(
    mixtrack_collector: Any, redis_server: Any, start_server: Any, tmp_path: Path
) -> None:
    port = free_port()
    server = start_server(
        gunicorn_command(
            "-w", "3", "--preload", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
            "examples.flask_shop:create_app()",
        ),
        port,
        server_env(mixtrack_collector, tmp_path, MIXTRACK_LEDGER=redis_server.url),
    )  # fmt: skip
    visitors = [browser(server.url) for _ in range(VISITORS)]
    for visitor in visitors:
        assert visitor.get("/").status_code == 200  # the anonymous-id cookie

    def render(visitor: httpx.Client) -> str:
        page = visitor.get("/pricing")
        assert page.status_code == 200
        return layout_of(page.text)

    with ThreadPoolExecutor(max_workers=12) as pool:
        shown = list(pool.map(render, [v for v in visitors for _ in range(RENDERS)]))
    viewed = mixtrack_collector.wait_for(VISITORS * RENDERS, "Viewed pricing", timeout=20.0)
    assert len(viewed) == VISITORS * RENDERS

    found = exposures(mixtrack_collector)
    per_visitor = Counter(event["properties"]["distinct_id"] for event in found)
    assert len(per_visitor) == VISITORS and set(per_visitor.values()) == {1}
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0  # never sent twice
    # Each visitor saw one layout on every render, the one their exposure names.
    exposed = {e["properties"]["distinct_id"]: e["properties"]["Variant name"] for e in found}
    for event in viewed:
        assert event["properties"]["layout"] == exposed[event["properties"]["distinct_id"]]
    assert Counter(shown) == Counter(event["properties"]["layout"] for event in viewed)

    # Sign up on one worker, render on the others: same variant, still one exposure.
    visitor = visitors[0]
    before = {render(visitor) for _ in range(3)}
    signup = visitor.post("/signup", data={"username": "ada", "password": "pw", "plan": "pro"})
    assert signup.status_code == 302
    after = {render(visitor) for _ in range(6)}
    assert before == after and len(after) == 1
    mixtrack_collector.wait_for(VISITORS * RENDERS + 9, "Viewed pricing", timeout=20.0)
    # the sign-up was served by another worker, whose client flushes on its own schedule
    [signed_up] = mixtrack_collector.wait_for(1, "Signed up", timeout=20.0)
    user = signed_up["properties"]["distinct_id"]
    assert len(mixtrack_collector.identity(user)) == 2
    assert len(mixtrack_collector.events("$experiment_started", user, identity=True)) == 1
    assert len(exposures(mixtrack_collector)) == VISITORS


def test_the_example_shop_sends_the_events_of_its_spec(
    mixtrack_collector: Any, start_server: Any, tmp_path: Path
) -> None:
    port = free_port()
    server = start_server(
        python_command("-m", "examples.flask_shop", "--port", str(port)),
        port,
        server_env(mixtrack_collector, tmp_path),
    )
    shop = browser(server.url)
    assert shop.get("/").status_code == 200
    assert shop.get("/products/pro").status_code == 200
    assert shop.get("/products/nothing").status_code == 404
    layouts = {layout_of(shop.get("/pricing").text) for _ in range(2)}
    signup = {"username": "grace", "password": "pw", "plan": "pro"}
    assert shop.post("/signup", data=signup).status_code == 302
    layouts.add(layout_of(shop.get("/pricing").text))
    assert shop.post("/checkout/team").status_code == 200
    assert shop.post("/logout").status_code == 302
    login = {"username": "grace", "password": "pw"}
    assert shop.post("/login", data=login).status_code == 302
    assert shop.post("/login", data={**login, "password": "no"}).status_code == 401
    assert len(layouts) == 1

    # batches may be in flight side by side: wait for every expected event, not the last one
    expected = {
        "Viewed home": 1,
        "Viewed product": 1,
        "$experiment_started": 1,
        "Viewed pricing": 3,
        "Signed up": 1,
        "Order completed": 1,
        "Logged in": 1,
        "$identify": 2,  # signing up, then logging in again from a fresh device id
    }
    for name, count in expected.items():
        mixtrack_collector.wait_for(count, name, timeout=10.0)
    events = mixtrack_collector.events()
    names = Counter(event["event"] for event in events)
    assert names["Viewed home"] == 1
    assert names["Viewed product"] == 1
    assert names["$experiment_started"] == 1
    assert names["Viewed pricing"] == 3
    assert names["Signed up"] == names["Order completed"] == names["Logged in"] == 1
    [product] = mixtrack_collector.events("Viewed product")
    assert product["properties"]["product"] == "pro" and product["properties"]["price"] == 29.0
    [exposure] = mixtrack_collector.events("$experiment_started")
    assert exposure["properties"]["Experiment name"] == "pricing_page_layout"
    assert {exposure["properties"]["Variant name"]} == layouts
    viewed = mixtrack_collector.events("Viewed pricing")
    assert {event["properties"]["layout"] for event in viewed} == layouts
    [order] = mixtrack_collector.events("Order completed")
    assert order["properties"]["product"] == "team" and order["properties"]["revenue"] == 99.0
    [signed_up] = mixtrack_collector.events("Signed up", plan="pro")
    user = signed_up["properties"]["distinct_id"]
    assert mixtrack_collector.events("Logged in")[0]["properties"]["distinct_id"] == user
    # The anonymous visit before signing up and the one after logging out join the user.
    anonymous = {exposure["properties"]["distinct_id"]}
    assert anonymous <= set(mixtrack_collector.identity(user))
    assert len(mixtrack_collector.identity(user)) == 3
    assert mixtrack_collector.profile(user) == {"$name": "grace", "plan": "pro"}
    assert shop.get("/health").text == "ok"
