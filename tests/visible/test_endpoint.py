"""The framework-free exposure endpoint: verify, same visitor, rate limit, ledger, track."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from freezegun import freeze_time

import mixtrack
from mixtrack.errors import ConfigError
from mixtrack.exposure import EXPOSURE_EVENT, RENDER_EVENT, Experiments, MemoryLedger, Render
from mixtrack.flags import StaticFlags
from mixtrack.testing import InMemoryTransport
from mixtrack.web._rate import RateLimiter
from mixtrack.web.visible import Beacon, BeaconAnswer, VisibleExposure

SECRET = "test-secret"
FLAGS = {"offer": {"control": 50, "discount": 50}, "banner": {"on": 100}}
ANON = "$device:3a9c1d2e-0000-4000-8000-000000000001"


class App:
    """What an adapter holds: a real client on an in-memory transport, experiments, the core."""

    def __init__(self, **options: Any) -> None:
        self.transport = InMemoryTransport()
        self.client = mixtrack.Client("tok", transport=self.transport, flush_interval=0.05)
        self.ledger = MemoryLedger()
        self.experiments = Experiments(self.client, StaticFlags(FLAGS), ledger=self.ledger)
        self.visible = VisibleExposure(self.experiments, SECRET, **options)

    def events(self, name: str) -> list[dict[str, Any]]:
        assert self.client.flush(timeout=5)
        return [e for e in self.transport.events() if e["event"] == name]

    def beacon(
        self, token: str, ids: tuple[str | None, ...] = (ANON,), **fields: Any
    ) -> BeaconAnswer:
        fields.setdefault("host", "shop.test")
        fields.setdefault("origin", "http://shop.test")
        fields.setdefault("fetch_site", "same-origin")
        return self.visible.receive(
            Beacon(fields.pop("method", "POST"), token.encode(), fields.pop("content_type",
                   "text/plain;charset=UTF-8"), ids, **fields)
        )  # fmt: skip


@pytest.fixture
def app() -> Iterator[App]:
    one = App()
    yield one
    one.client.shutdown(timeout=5)


def test_a_seen_variant_is_exposed_once_with_the_visitors_context(app: App):
    variant = app.experiments.variant(ANON, "offer")
    token = app.visible.token(variant)
    assert token is not None
    assert app.events(EXPOSURE_EVENT) == []  # rendering a token sends nothing

    answer = app.beacon(token, properties={"ip": "203.0.113.9", "$browser": "Chrome"})
    assert (answer.status, dict(answer.body)) == (200, {"exposed": True})
    again = app.beacon(token)
    assert (again.status, dict(again.body)) == (200, {"exposed": False, "reason": "seen"})

    [event] = app.events(EXPOSURE_EVENT)
    props = event["properties"]
    assert props["distinct_id"] == ANON
    assert props["Experiment name"] == "offer"
    assert props["Variant name"] == variant.name
    assert props["Exposure mode"] == "visible"
    assert (props["ip"], props["$browser"]) == ("203.0.113.9", "Chrome")
    stats = app.visible.stats()
    assert (stats.beacons, stats.exposed, stats.duplicates, dict(stats.refused)) == (2, 1, 1, {})


def test_render_exposure_and_visible_exposure_share_the_ledger(app: App):
    variant = app.experiments.variant(ANON, "offer")
    assert variant.expose()  # exposed at render on another page
    answer = app.beacon(app.visible.token(variant) or "")
    assert dict(answer.body) == {"exposed": False, "reason": "seen"}
    assert len(app.events(EXPOSURE_EVENT)) == 1


def test_the_variant_named_is_the_one_on_screen(app: App):
    # A token names what the page showed; the exposure reports that, not a re-evaluation.
    shown = "control" if app.experiments.variant(ANON, "offer").name == "discount" else "discount"
    token = app.visible.tokens.issue(ANON, "offer", shown)
    assert app.beacon(token).status == 200
    [event] = app.events(EXPOSURE_EVENT)
    assert event["properties"]["Variant name"] == shown


def test_someone_no_longer_in_the_experiment_is_not_exposed(app: App):
    token = app.visible.tokens.issue(ANON, "retired_experiment", "on")
    answer = app.beacon(token)
    assert dict(answer.body) == {"exposed": False, "reason": "not in experiment"}
    assert app.events(EXPOSURE_EVENT) == [] and app.visible.stats().excluded == 1


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"ids": ("$device:someone-else", "user-9")}, 403, "not_yours"),
        ({"ids": ()}, 403, "not_yours"),
        ({"origin": "https://evil.test"}, 403, "cross_site"),
        ({"origin": "null"}, 403, "cross_site"),
        ({"fetch_site": "cross-site", "origin": None}, 403, "cross_site"),
        ({"fetch_site": "same-site"}, 403, "cross_site"),
        ({"method": "GET"}, 405, "method"),
        ({"content_type": "multipart/form-data"}, 415, "malformed"),
    ],
)
def test_refused_beacons_send_nothing(app: App, change, status, reason, caplog):
    token = app.visible.token(app.experiments.variant(ANON, "offer")) or ""
    ids = change.pop("ids", (ANON,))
    with caplog.at_level(logging.WARNING, logger="mixtrack.exposure"):
        answer = app.beacon(token, ids, **change)
    assert (answer.status, answer.body["error"]) == (status, reason)
    assert app.events(EXPOSURE_EVENT) == []
    assert dict(app.visible.stats().refused) == {reason: 1}
    assert f"exposure beacon refused ({reason})" in caplog.text


def test_forged_tampered_and_expired_tokens(app: App):
    other_app = VisibleExposure(app.experiments, "another-secret")
    forged = other_app.tokens.issue(ANON, "offer", "discount")
    assert app.beacon(forged).status == 403
    real = app.visible.tokens.issue(ANON, "offer", "control")
    assert app.beacon(real[:10] + ("x" if real[10] != "x" else "y") + real[11:]).status in (
        400,
        403,
    )
    assert app.beacon("not a token").status == 400
    with freeze_time("2020-01-01"):
        old = app.visible.tokens.issue(ANON, "offer", "discount")
    assert (app.beacon(old).status, app.beacon(old).body["error"]) == (403, "expired")
    assert app.events(EXPOSURE_EVENT) == []
    assert app.beacon(real).status == 200  # the genuine one still works


def test_a_login_between_render_and_view_keeps_the_token_good(app: App):
    token = app.visible.token(app.experiments.variant(ANON, "offer")) or ""
    answer = app.beacon(token, (ANON, "user-42"))  # the anonymous cookie stays after login
    assert dict(answer.body) == {"exposed": True}


def test_json_and_form_bodies_for_single_page_apps(app: App):
    a = app.visible.token(app.experiments.variant(ANON, "offer")) or ""
    b = app.visible.token(app.experiments.variant(ANON, "banner")) or ""
    assert app.beacon(f'{{"token": "{a}"}}', content_type="application/json").status == 200
    form = app.beacon(f"token={b}", content_type="application/x-www-form-urlencoded")
    assert dict(form.body) == {"exposed": True}
    assert app.beacon('{"tok": 1}', content_type="application/json").status == 400
    assert app.beacon("x" * 5000).status == 413
    assert len(app.events(EXPOSURE_EVENT)) == 2


def test_each_visitor_is_rate_limited_on_its_own():
    app = App(rate=RateLimiter(per_minute=1, burst=3))
    try:
        token = app.visible.token(app.experiments.variant(ANON, "offer")) or ""
        answers = [app.beacon(token) for _ in range(4)]
        assert [a.status for a in answers] == [200, 200, 200, 429]
        assert answers[-1].headers["Retry-After"] == "60"
        other = "$device:3a9c1d2e-0000-4000-8000-000000000002"
        their = app.visible.token(app.experiments.variant(other, "offer")) or ""
        assert dict(app.beacon(their, (other,)).body) == {"exposed": True}
        assert len(app.events(EXPOSURE_EVENT)) == 2
    finally:
        app.client.shutdown(timeout=5)


def test_render_events_once_per_person_and_never_for_the_already_exposed(app: App):
    sent: list[Render] = []
    variant = app.experiments.variant(ANON, "offer")
    app.visible.rendered(variant, None, sent.append)
    app.visible.rendered(variant, None, sent.append)  # a reload
    [render] = sent
    assert render.event == RENDER_EVENT == "Experiment rendered"
    props = render.properties()
    assert props == {"Experiment name": "offer", "Variant name": variant.name,
                     "Exposure mode": "visible"}  # fmt: skip
    assert len(render.insert_id) == 32 and render.distinct_id == ANON

    exposed = app.experiments.variant("user-7", "banner")
    assert exposed.expose()
    app.visible.rendered(exposed, None, sent.append)
    app.visible.rendered(app.experiments.variant("user-7", "unknown"), None, sent.append)
    assert len(sent) == 1
    assert app.visible.stats().renders == 1
    off = VisibleExposure(app.experiments, SECRET, track_renders=False)
    off.rendered(app.experiments.variant("user-8", "offer"), None, sent.append)
    assert len(sent) == 1


def test_a_render_is_recorded_only_when_the_page_is_delivered(app: App):
    sent: list[Render] = []
    variant = app.experiments.variant("user-9", "offer")
    with app.experiments.request_scope() as failed:
        app.visible.rendered(variant, failed, sent.append)
        assert sent == []
    # The failed page recorded nothing, so the next one that is delivered does.
    scope = app.experiments.request_scope()
    app.visible.rendered(variant, scope, sent.append)
    assert sent == []
    scope.commit()
    assert [r.experiment for r in sent] == ["offer"]
    app.visible.rendered(variant, app.experiments.request_scope(), sent.append)
    assert len(sent) == 1  # a later page: not the first render any more, once committed


def test_markup_helpers(app: App):
    variant = app.experiments.variant(ANON, "offer")
    attributes = app.visible.attributes(variant)
    assert attributes.startswith('data-mixtrack-exposure="') and attributes.endswith('"')
    assert app.visible.attributes(app.experiments.variant(ANON, "unknown")) == ""
    tag = app.visible.script_tag(nonce="r4nd0m")
    assert tag.startswith('<script src="/_mixtrack/exposure.js?v=')
    assert 'nonce="r4nd0m"' in tag and 'data-dwell="500"' in tag and tag.endswith("defer></script>")
    assert 'src="/shop/_mixtrack/exposure.js' in app.visible.script_tag(prefix="/shop")
    assert b"eval(" not in app.visible.script and b"sendBeacon" in app.visible.script
    assert app.visible.script_headers()["Content-Type"].startswith("text/javascript")


def test_bad_options_are_clear_errors(app: App):
    with pytest.raises(ConfigError, match="dwell must be between 0 and 60 seconds, got -1"):
        VisibleExposure(app.experiments, SECRET, dwell=-1)
    with pytest.raises(ConfigError, match="burst must be an int of at least 1"):
        RateLimiter(burst=0)
    with pytest.raises(ConfigError, match="per_minute must be a positive number"):
        RateLimiter(per_minute=0)


def test_the_exposure_leaves_at_once_even_inside_a_request_scope(app: App):
    # The beacon's own request is the delivery: nothing holds its exposure back.
    token = app.visible.token(app.experiments.variant(ANON, "offer")) or ""
    with app.experiments.request_scope() as scope:
        answer = app.beacon(token, properties={"$current_url": "http://shop.test/offer"})
        assert dict(answer.body) == {"exposed": True}
        assert scope.discard() == 0
    [event] = app.events(EXPOSURE_EVENT)
    assert event["properties"]["$current_url"] == "http://shop.test/offer"
