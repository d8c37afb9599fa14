"""What other mixtrack features build on: endpoints and template helpers from the web layer."""

from __future__ import annotations

from typing import Any

import pytest
from flask import render_template_string

from mixtrack.web import BUILTIN_EXTENSIONS, EndpointResponse, RequestTracker, WebApp


def beacon(tracker: RequestTracker, body: bytes) -> EndpointResponse:
    tracker.track_on_delivery("Beacon", {"body": body.decode()})
    if body == b"refuse":
        return EndpointResponse(400, b"refused")
    return EndpointResponse(204)


def shout(tracker: RequestTracker, text: str) -> str:
    return f"{text.upper()} for {tracker.distinct_id[:8]}"


def feature(app: WebApp) -> None:
    app.endpoints.add("POST", "/_mixtrack/beacon", beacon)
    app.helpers["shout"] = shout


@pytest.fixture
def with_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "mixtrack.web._extensions.BUILTIN_EXTENSIONS", [*BUILTIN_EXTENSIONS, feature]
    )


def test_an_extension_adds_an_endpoint_and_a_helper(
    with_feature: None, make_app: Any, mixtrack_collector: Any
) -> None:
    app = make_app()

    @app.get("/hello")
    def hello() -> str:
        return render_template_string('{{ shout("hello") }}')

    visitor = app.test_client()
    assert visitor.get("/hello", buffered=True).text == "HELLO for $device:"
    answer = visitor.post("/_mixtrack/beacon", data=b"seen", buffered=True)
    assert answer.status_code == 204
    assert visitor.post("/_mixtrack/beacon", data=b"refuse", buffered=True).status_code == 400
    assert visitor.get("/_mixtrack/beacon", buffered=True).status_code == 404  # POST only
    [event] = mixtrack_collector.wait_for(1, "Beacon", timeout=10)
    assert event["properties"]["body"] == "seen"  # the refused one was discarded
    assert len(mixtrack_collector.events("Beacon")) == 1
