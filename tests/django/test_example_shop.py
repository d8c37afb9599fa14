"""The example shop, started the way its README says, driven over HTTP like the demo does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests._agents import PERSON

EXPOSURE = "$experiment_started"


def _post(http: httpx.Client, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    # Django's CSRF protection: any GET sets the csrftoken cookie; send it back as a header.
    headers = {"X-CSRFToken": http.cookies["csrftoken"]}
    return http.post(path, data=data or {}, headers=headers)


def test_example_shop_sends_the_spec_events(
    mixtrack_collector: Any, start_server: Any, tmp_path: Path
) -> None:
    server = start_server(
        ["-m", "examples.django_shop", "--port", "{port}"],
        DJANGO_SETTINGS_MODULE="examples.django_shop.settings",
        MIXTRACK_API_HOST=mixtrack_collector.url,
        MIXTRACK_TOKEN="shop-test-token",
        SHOP_DB=str(tmp_path / "shop.sqlite3"),
    )
    with httpx.Client(base_url=server.url, headers=PERSON, trust_env=False, timeout=20) as http:
        assert http.get("/").status_code == 200
        assert "Enterprise" in http.get("/").text
        assert http.get("/products/pro").status_code == 200
        assert http.get("/products/nope").status_code == 404
        layouts = {http.get("/pricing").text.count('data-layout="list"') for _ in range(3)}
        assert len(layouts) == 1
        signup = _post(http, "/signup", {"username": "ada", "password": "pw", "plan": "pro"})
        assert signup.status_code == 302
        assert http.get("/pricing").status_code == 200
        assert _post(http, "/checkout/pro").status_code == 200
        assert _post(http, "/logout").status_code == 302
        login = _post(http, "/login", {"username": "ada", "password": "pw"})
        assert login.status_code == 302
        assert _post(http, "/login", {"username": "ada", "password": "no"}).status_code == 400
    mixtrack_collector.wait_for(1, "Logged in", timeout=15)
    assert server.stop() == 0

    assert len(mixtrack_collector.events("Viewed home")) == 2
    assert len(mixtrack_collector.events("Viewed product", product="pro", price=29.0)) == 1
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    layout = exposures[0]["properties"]["Variant name"]
    assert layout in ("grid", "list")
    assert exposures[0]["properties"]["Experiment name"] == "pricing_page_layout"
    viewed = mixtrack_collector.events("Viewed pricing")
    assert [e["properties"]["layout"] for e in viewed] == [layout] * 4

    (signed_up,) = mixtrack_collector.events("Signed up", plan="pro")
    user_id = signed_up["properties"]["distinct_id"]
    cluster = mixtrack_collector.identity(user_id)
    assert exposures[0]["properties"]["distinct_id"] in cluster
    assert mixtrack_collector.profile(user_id) == {"$name": "ada", "plan": "pro"}
    assert len(mixtrack_collector.events("Logged in", distinct_id=user_id)) == 1
    orders = mixtrack_collector.events("Order completed", product="pro", revenue=29.0)
    assert [o["properties"]["distinct_id"] for o in orders] == [user_id]
    assert all(e["properties"]["token"] == "shop-test-token" for e in viewed)
