"""Exposures through Django's test client against the real collector."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

EXPOSURE = "$experiment_started"
pytestmark = pytest.mark.django_db


def test_page_rendered_20_times_exposes_once(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    layouts = {client.get("/pricing").content for _ in range(20)}
    assert len(layouts) == 1

    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    props = exposures[0]["properties"]
    assert props["Experiment name"] == "pricing_page_layout"
    assert props["Variant name"] in ("grid", "list")
    assert f">{props['Variant name']}<".encode() in next(iter(layouts))
    viewed = mixtrack_collector.events("Viewed pricing")
    assert len(viewed) == 20
    assert {e["properties"]["layout"] for e in viewed} == {props["Variant name"]}
    assert {e["properties"]["distinct_id"] for e in viewed} == {props["distinct_id"]}


def test_anonymous_cookie_is_signed_and_kept(plugin: Any) -> None:
    client = Client()
    first = client.get("/whoami")
    cookie = first.cookies["mixtrack_anon"]
    assert cookie["httponly"]
    anon_id = first.json()["anon_id"]
    device_id, signed = anon_id.removeprefix("$device:"), cookie.value
    assert anon_id.startswith("$device:") and cookie.value.startswith(device_id + ".")
    assert cookie["max-age"] == 365 * 24 * 3600 and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain http; https requests get Secure
    assert client.get("/whoami").json()["anon_id"] == anon_id
    assert "mixtrack_anon" not in client.get("/whoami").cookies

    client.cookies["mixtrack_anon"] = "forged"
    assert client.get("/whoami").json()["anon_id"] != "$device:forged"
    client.cookies["mixtrack_anon"] = "someone-else." + signed.split(".", 1)[1]
    assert client.get("/whoami").json()["anon_id"] != "$device:someone-else"
    assert Client().get("/whoami", secure=True).cookies["mixtrack_anon"]["secure"]


def test_template_raising_after_the_tag_sends_nothing(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client(raise_request_exception=False)
    for _ in range(3):
        assert client.get("/broken").status_code == 500
    assert mixtrack_collector.events(EXPOSURE) == []
    assert mixtrack_collector.events("Viewed pricing") == []

    # The discarded exposure did not use up the visitor: the next good page exposes.
    client.get("/pricing")
    assert len(mixtrack_collector.events(EXPOSURE)) == 1


@pytest.mark.parametrize("status", [404, 500, 503])
def test_error_status_sends_nothing(plugin: Any, mixtrack_collector: Any, status: int) -> None:
    client = Client()
    assert client.get(f"/pricing/{status}").status_code == status
    assert client.get("/no-such-page").status_code == 404
    assert mixtrack_collector.events(EXPOSURE) == []


def test_view_exception_sends_nothing(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client(raise_request_exception=False)
    assert client.get("/raises").status_code == 500
    assert mixtrack_collector.events(EXPOSURE) == []


def test_evaluating_in_a_view_is_not_an_exposure(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    for _ in range(5):
        assert client.get("/evaluate-only").json()["layout"] in ("grid", "list")
    assert mixtrack_collector.events(EXPOSURE) == []


def test_json_view_exposes_explicitly(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    layout = {client.get("/api/layout").json()["layout"] for _ in range(3)}
    exposures = mixtrack_collector.events(EXPOSURE)
    assert [e["properties"]["Variant name"] for e in exposures] == list(layout)


def test_expose_tag_marks_a_variant_from_the_view(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    body = client.get("/view-variant").content.decode().strip()
    exposures = mixtrack_collector.events(EXPOSURE)
    assert [e["properties"]["Variant name"] for e in exposures] == [body]


def test_jinja2_functions(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    for _ in range(3):
        assert client.get("/jinja/pricing").status_code == 200
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    viewed = mixtrack_collector.events("Viewed pricing")
    assert len(viewed) == 3
    assert viewed[0]["properties"]["layout"] == exposures[0]["properties"]["Variant name"]


def test_streaming_response_commits_after_the_stream(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    response = client.get("/stream")
    assert response.streaming
    assert mixtrack_collector.events(EXPOSURE) == []  # nothing streamed yet
    body = b"".join(response.streaming_content)
    response.close()
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    assert exposures[0]["properties"]["Variant name"].encode() in body


def test_streaming_response_that_breaks_sends_nothing(plugin: Any, mixtrack_collector: Any) -> None:
    client = Client()
    response = client.get("/stream/broken")
    with pytest.raises(RuntimeError, match="the stream broke"):
        b"".join(response.streaming_content)
    response.close()
    assert mixtrack_collector.events(EXPOSURE) == []


def test_streaming_response_closed_early_sends_nothing(
    plugin: Any, mixtrack_collector: Any
) -> None:
    client = Client()
    response = client.get("/stream")
    chunks = iter(response.streaming_content)
    next(chunks)
    next(chunks)  # the exposure is marked while producing this chunk
    response.close()
    assert mixtrack_collector.events(EXPOSURE) == []
    b"".join(Client().get("/stream").streaming_content)
    assert len(mixtrack_collector.events(EXPOSURE)) == 1


def test_a_cookie_of_the_earlier_format_keeps_its_device_id(plugin: Any) -> None:
    from django.conf import settings
    from django.http import HttpResponse

    from mixtrack.web import CookieSigner

    # What earlier releases set: Django's signed cookie holding "$device:<uuid>", made by the
    # call they made (how Django derives the signing key from the salt changed in 6.1).
    earlier = HttpResponse()
    earlier.set_signed_cookie(
        "mixtrack_anon",
        "$device:0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10",
        salt="mixtrack_django.anonymous_id:mixtrack_anon",
    )
    old = earlier.cookies["mixtrack_anon"].value
    client = Client()
    client.cookies["mixtrack_anon"] = old
    answer = client.get("/whoami")
    assert answer.json()["anon_id"] == "$device:0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10"
    rewritten = answer.cookies["mixtrack_anon"].value
    assert (
        CookieSigner(settings.SECRET_KEY).unsign(rewritten)
        == "0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10"
    )
