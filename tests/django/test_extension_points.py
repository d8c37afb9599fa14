"""Endpoints added to the web layer are served by the Django middleware, settled like pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from mixtrack.web import EndpointResponse, RequestTracker


def beacon(tracker: RequestTracker, body: bytes) -> EndpointResponse:
    tracker.track_on_delivery("Beacon", {"body": body.decode()})
    if body == b"refuse":
        return EndpointResponse(400, b"refused", headers=(("X-Why", "refused"),))
    return EndpointResponse(204)


def test_an_endpoint_is_served_and_settled(plugin: Any, mixtrack_collector: Any) -> None:
    plugin.web.endpoints.add("POST", "/_mixtrack/beacon", beacon)
    client = Client()
    ok = client.post("/_mixtrack/beacon", data=b"seen", content_type="text/plain")
    refused = client.post("/_mixtrack/beacon", data=b"refuse", content_type="text/plain")
    assert ok.status_code == 204 and "mixtrack_anon" in ok.cookies
    assert refused.status_code == 400 and refused["X-Why"] == "refused"
    assert client.get("/_mixtrack/beacon").status_code == 404
    [event] = mixtrack_collector.wait_for(1, "Beacon", timeout=10)
    assert event["properties"]["body"] == "seen"
    assert len(mixtrack_collector.events("Beacon")) == 1


@pytest.mark.django_db
def test_force_login_neither_warns_nor_exposes(
    plugin: Any, mixtrack_collector: Any, caplog: Any
) -> None:
    from django.contrib.auth.models import User

    user = User.objects.create_user("lin", password="pw")
    client = Client()
    with caplog.at_level("DEBUG", "mixtrack"):
        client.force_login(user)
        client.login(username="lin", password="pw")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert mixtrack_collector.events("$identify") == []
    assert mixtrack_collector.events("$experiment_started") == []
    assert client.get("/whoami").json()["distinct_id"] == str(user.pk)


def test_the_system_check_reports_unknown_experiments_in_templates(
    plugin: Any, settings: Any, tmp_path: Any
) -> None:
    from mixtrack_django.checks import check_template_experiments

    (tmp_path / "typo.html").write_text(
        '{% load mixtrack %}{% experiment "pricng_page_layout" as layout %}'
        '{% experiment "pricing_page_layout" as ok %}'
    )
    (tmp_path / "typo.jinja").write_text('{% set x = experiment("checkout_redsign") %}')
    assert check_template_experiments() == []
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
        *settings.TEMPLATES[1:],
    ]
    found = check_template_experiments()
    assert [message.id for message in found] == ["mixtrack_django.W003"] * 2
    messages = sorted(message.msg for message in found)
    assert "typo.html names experiment 'pricng_page_layout'" in messages[0]
    assert "typo.jinja names experiment 'checkout_redsign'" in messages[1]
