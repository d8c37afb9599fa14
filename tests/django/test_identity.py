"""Login and logout, through the test client and through a live server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from mixtrack.flags import StaticFlags
from tests._agents import FIREFOX, PERSON

EXPOSURE = "$experiment_started"
EXPERIMENT = "pricing_page_layout"


def _layout(body: bytes | str) -> str:
    text = body.decode() if isinstance(body, bytes) else body
    return text.split('<p id="layout">', 1)[1].split("<", 1)[0]


def _anonymous_visit_differing_from(client_factory: Any, user_id: str, flags: Any) -> Any:
    """A visitor whose pre-login variant differs from the one the user id would get."""
    own = flags.evaluate(user_id, EXPERIMENT, {}).variant
    for _ in range(64):
        client = client_factory()
        layout, anon_id = client.visit()
        if layout != own:
            return client, layout, anon_id
    raise AssertionError("no anonymous visitor with the other variant in 64 tries")


class Visitor:
    def __init__(self) -> None:
        self.http = Client()

    def visit(self) -> tuple[str, str]:
        layout = _layout(self.http.get("/pricing").content)
        return layout, self.http.get("/whoami").json()["anon_id"]

    def login(self, username: str, password: str) -> str:
        response = self.http.post("/login", {"username": username, "password": password})
        return str(response.json()["distinct_id"])

    def pricing(self) -> str:
        return _layout(self.http.get("/pricing").content)

    def logout(self) -> str:
        return str(self.http.post("/logout").json()["distinct_id"])


class LiveVisitor(Visitor):
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, headers=PERSON, trust_env=False, timeout=10)  # type: ignore[assignment]

    def visit(self) -> tuple[str, str]:
        layout = _layout(self.http.get("/pricing").text)
        return layout, self.http.get("/whoami").json()["anon_id"]

    def login(self, username: str, password: str) -> str:
        response = self.http.post("/login", data={"username": username, "password": password})
        return str(response.json()["distinct_id"])

    def pricing(self) -> str:
        return _layout(self.http.get("/pricing").text)


def _check_login_keeps_identity(plugin: Any, collector: Any, visitor_factory: Any) -> None:
    user = User.objects.create_user("ada", password="pw-ada", is_staff=False)
    user_id = str(user.pk)
    visitor, before, anon_id = _anonymous_visit_differing_from(
        visitor_factory, user_id, StaticFlags(dict(plugin.options.flags))
    )
    # Seen before login: one exposure, under the anonymous id.
    assert visitor.pricing() == before
    assert visitor.login("ada", "pw-ada") == user_id
    for _ in range(3):
        assert visitor.pricing() == before

    exposures = collector.events(EXPOSURE, distinct_id=user_id, identity=True)
    assert len(exposures) == 1
    assert exposures[0]["properties"]["distinct_id"] == anon_id
    assert exposures[0]["properties"]["Variant name"] == before
    assert anon_id in collector.identity(user_id)
    assert set(collector.identity(anon_id)) == set(collector.identity(user_id))
    viewed = collector.events("Viewed pricing", distinct_id=user_id, identity=True)
    assert len(viewed) == 5
    assert {e["properties"]["distinct_id"] for e in viewed} == {anon_id, user_id}
    assert {e["properties"]["layout"] for e in viewed} == {before}
    profile = collector.profile(user_id)
    assert profile is not None and profile["$name"] == "ada"


@pytest.mark.django_db
def test_login_keeps_identity_and_variant(plugin: Any, mixtrack_collector: Any) -> None:
    _check_login_keeps_identity(plugin, mixtrack_collector, Visitor)


def test_login_keeps_identity_and_variant_live_server(
    plugin: Any, mixtrack_collector: Any, live_server: Any, transactional_db: Any
) -> None:
    _check_login_keeps_identity(plugin, mixtrack_collector, lambda: LiveVisitor(live_server.url))


@pytest.mark.django_db
def test_first_visit_then_login_is_one_exposure(plugin: Any, mixtrack_collector: Any) -> None:
    User.objects.create_user("bob", password="pw-bob")
    visitor = Visitor()
    before = visitor.pricing()
    user_id = visitor.login("bob", "pw-bob")
    assert visitor.pricing() == before
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    assert exposures[0]["properties"]["Variant name"] == before
    assert exposures[0]["properties"]["distinct_id"] in mixtrack_collector.identity(user_id)


@pytest.mark.django_db
def test_force_login_then_render_is_not_a_second_exposure(
    plugin: Any, mixtrack_collector: Any
) -> None:
    # A login that skips the middleware's signal (the test client's force_login, an SSO
    # callback): the next render carries the user id and the same device cookie.
    user = User.objects.create_user("fay", password="pw-fay")
    visitor = Visitor()
    before = visitor.pricing()
    visitor.http.force_login(user)
    assert visitor.pricing() == before
    assert visitor.pricing() == before
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1, exposures
    assert exposures[0]["properties"]["Variant name"] == before


@pytest.mark.django_db
def test_logout_gives_a_fresh_anonymous_id(plugin: Any, mixtrack_collector: Any) -> None:
    User.objects.create_user("cy", password="pw-cy")
    visitor = Visitor()
    _, first_anon = visitor.visit()
    user_id = visitor.login("cy", "pw-cy")
    after_logout = visitor.logout()
    assert after_logout not in (first_anon, user_id)
    assert visitor.http.get("/whoami").json()["distinct_id"] == after_logout
    assert after_logout not in mixtrack_collector.identity(user_id)


@pytest.mark.django_db
def test_qa_users_are_marked(plugin: Any, mixtrack_collector: Any) -> None:
    User.objects.create_user("qa", password="pw-qa", is_staff=True)
    visitor = Visitor()
    visitor.login("qa", "pw-qa")
    visitor.pricing()
    exposure = mixtrack_collector.events(EXPOSURE)[0]["properties"]
    assert exposure["$is_qa_tester"] is True
    assert mixtrack_collector.events("Viewed pricing")[0]["properties"]["$is_qa_tester"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["simplified", "original"])
def test_identity_modes_and_context_properties(
    plugin: Any, mixtrack_collector: Any, settings: Any, mode: str
) -> None:
    settings.MIXTRACK = {**settings.MIXTRACK, "IDENTITY": mode}
    User.objects.create_user("dee", password="pw-dee")
    http = Client(HTTP_USER_AGENT=FIREFOX, HTTP_REFERER="https://news.example/a")
    http.get("/pricing?utm_source=news")
    device = http.get("/whoami").json()["anon_id"].removeprefix("$device:")
    user_id = str(
        http.post("/login", {"username": "dee", "password": "pw-dee"}).json()["distinct_id"]
    )
    http.get("/pricing")

    [identify] = mixtrack_collector.wait_for(1, "$identify", timeout=10)
    [exposure] = mixtrack_collector.events(EXPOSURE)
    viewed = mixtrack_collector.wait_for(2, "Viewed pricing", timeout=10)
    after = viewed[-1]["properties"]
    assert identify["properties"]["distinct_id"] == user_id
    assert identify["properties"]["$anon_distinct_id"] == f"$device:{device}"
    assert exposure["properties"]["distinct_id"] == f"$device:{device}"
    assert after["distinct_id"] == user_id
    assert after["$browser"] == "Firefox" and after["ip"] == "127.0.0.1"
    assert after["$referring_domain"] == "news.example"
    assert after["utm_source"] == "news"  # kept for the visit
    assert after["$current_url"] == "http://testserver/pricing"
    if mode == "simplified":
        assert identify["properties"]["$device_id"] == device
        assert identify["properties"]["$user_id"] == user_id
        assert exposure["properties"]["$device_id"] == device
        assert after["$device_id"] == device and after["$user_id"] == user_id
    else:
        assert "$device_id" not in after and "$user_id" not in identify["properties"]
