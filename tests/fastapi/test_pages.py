"""Pages, JSON routes and streams under uvicorn: exposures only for delivered responses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

EXPOSURE = "$experiment_started"


def _layout(text: str) -> str:
    return text.split('<p id="layout">', 1)[1].split("<", 1)[0]


def test_a_page_exposes_once_and_its_events_follow_delivery(
    uvicorn_app: Any, mixtrack_collector: Any
) -> None:
    with uvicorn_app.browser() as browser:
        first = browser.get("/pricing")
        layouts = {_layout(browser.get(path).text) for path in ["/pricing", "/async/pricing"] * 3}
        who = browser.get("/whoami").json()
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"mixtrack_anon={who['device_id']}.")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert "Secure" not in cookie  # plain http
    assert layouts == {_layout(first.text)}

    mixtrack_collector.wait_for(7, "Viewed pricing", timeout=15)
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=15)
    props = exposure["properties"]
    assert props["distinct_id"] == who["distinct_id"] == "$device:" + who["device_id"]
    assert props["$device_id"] == who["device_id"]
    assert props["Experiment name"] == "pricing_page_layout"
    assert props["Variant name"] == _layout(first.text)
    viewed = mixtrack_collector.events("Viewed pricing")
    assert {e["properties"]["layout"] for e in viewed} == layouts
    assert {e["properties"]["$device_id"] for e in viewed} == {who["device_id"]}


def test_errors_and_broken_templates_send_nothing(
    uvicorn_app: Any, mixtrack_collector: Any
) -> None:
    # A failed request ends its connection: one connection per request, as after an error.
    with uvicorn_app.browser(headers={"Connection": "close"}) as browser:
        assert browser.get("/broken").status_code == 500
        assert browser.get("/pricing/404").status_code == 404
        assert browser.get("/pricing/503").status_code == 503
        with pytest.raises(httpx.HTTPError):  # the stream broke off after its first chunks
            browser.get("/stream", params={"fail": "true"})
        # The discarded exposures did not use the visitor up: the next good page exposes.
        assert browser.get("/pricing").status_code == 200
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=15)
    mixtrack_collector.wait_for(1, "Viewed pricing", timeout=15)
    assert len(mixtrack_collector.events("Viewed pricing")) == 1
    assert exposure["properties"]["Experiment name"] == "pricing_page_layout"


def test_a_stream_exposes_after_its_last_chunk_and_json_routes_expose_too(
    uvicorn_app: Any, mixtrack_collector: Any
) -> None:
    with uvicorn_app.browser() as browser:
        streamed = browser.get("/stream").text
        answer = browser.get("/api/layout").json()
    assert streamed == f"<p>{answer['layout']}</p>"
    assert answer["shown"] is False  # the stream exposed this visitor already
    [exposure] = mixtrack_collector.wait_for(1, EXPOSURE, timeout=15)
    assert exposure["properties"]["Variant name"] == answer["layout"]


def test_template_helpers_never_fail_a_page(uvicorn_app: Any, mixtrack_collector: Any) -> None:
    with uvicorn_app.browser() as browser:
        pages = [browser.get("/odd") for _ in range(3)]
    assert {page.status_code for page in pages} == {200}
    assert _layout(pages[0].text) == ""  # unknown experiment: the fallback
    [odd, *_] = mixtrack_collector.wait_for(3, "Viewed odd page", timeout=15)
    assert odd["properties"]["fine"] == 1
    assert len(mixtrack_collector.events("Viewed odd page")) == 3  # the bad ones left out
    assert mixtrack_collector.events(EXPOSURE) == []
    uvicorn_app.stop()
    log = uvicorn_app.output()
    assert log.count("names experiment 'no_such_experiment'") == 1  # once, not per page
    assert "track(): event 'Viewed odd page' left out" in log
    assert "'when'" in log  # the property is named


def test_an_added_endpoint_is_served_and_settled(uvicorn_app: Any, mixtrack_collector: Any) -> None:
    with uvicorn_app.browser() as browser:
        answer = browser.post("/_mixtrack/beacon", content=b"seen")
        device = browser.get("/whoami").json()["device_id"]
    assert answer.status_code == 204
    [beacon] = mixtrack_collector.wait_for(1, "Beacon", timeout=15)
    assert beacon["properties"]["body"] == "seen"
    assert beacon["properties"]["$device_id"] == device


def test_shutdown_delivers_what_is_queued(start_uvicorn: Any, mixtrack_collector: Any) -> None:
    server = start_uvicorn(MIXTRACK_FLUSH_INTERVAL="30")  # nothing leaves before shutdown
    with server.browser() as browser:
        for _ in range(5):
            assert browser.post("/checkout").status_code == 200
    assert mixtrack_collector.events("Order completed") == []
    server.stop()
    assert len(mixtrack_collector.wait_for(5, "Order completed", timeout=15)) == 5
