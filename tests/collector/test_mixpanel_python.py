"""The official mixpanel-python package, unchanged, pointed at the collector."""

from __future__ import annotations

import time
from collections.abc import Iterator

import mixpanel
import pytest

from mixtrack.testing._collector import Collector


@pytest.fixture
def mp(collector: Collector) -> Iterator[mixpanel.Mixpanel]:
    # api_host= forces https; the full endpoint URLs are how mixpanel-python speaks plain http.
    url = collector.url
    consumer = mixpanel.Consumer(
        events_url=f"{url}/track",
        people_url=f"{url}/engage",
        groups_url=f"{url}/groups",
        import_url=f"{url}/import",
    )
    yield mixpanel.Mixpanel("py-token", consumer=consumer)


def test_track_and_query(mp: mixpanel.Mixpanel, collector: Collector) -> None:
    mp.track("user-42", "Signed up", {"plan": "pro", "seats": 3})
    mp.track("user-7", "Signed up", {"plan": "free"})
    [found] = collector.events("Signed up", plan="pro")
    props = found["properties"]
    assert props["distinct_id"] == "user-42" and props["seats"] == 3
    assert props["token"] == "py-token" and props["mp_lib"] == "python"
    assert len(props["$insert_id"]) == 32
    assert [e["properties"]["distinct_id"] for e in collector.events(seats=3)] == ["user-42"]
    assert len(collector.events(distinct_id="user-7")) == 1


def test_people_operations_build_the_profile(mp: mixpanel.Mixpanel, collector: Collector) -> None:
    mp.people_set("user-42", {"$email": "a@example.com", "plan": "free"})
    mp.people_set_once("user-42", {"plan": "ignored", "first_seen": "today"})
    mp.people_increment("user-42", {"logins": 2})
    mp.people_increment("user-42", {"logins": 1})
    mp.people_append("user-42", {"pages": "home"})
    mp.people_union("user-42", {"tags": ["a", "b"]})
    mp.people_union("user-42", {"tags": ["b", "c"]})
    mp.people_remove("user-42", {"tags": "a"})
    mp.people_unset("user-42", ["first_seen"])
    mp.people_set("gone", {"x": 1})
    mp.people_delete("gone")
    assert collector.profile("user-42") == {
        "$email": "a@example.com",
        "plan": "free",
        "logins": 3,
        "pages": ["home"],
        "tags": ["b", "c"],
    }
    assert collector.profile("gone") is None
    assert collector.stats()["updates_applied"] == 11


def test_groups(mp: mixpanel.Mixpanel, collector: Collector) -> None:
    mp.group_set("company", "acme", {"name": "Acme", "size": 10})
    mp.group_union("company", "acme", {"regions": ["eu"]})
    mp.group_unset("company", "acme", ["size"])
    mp.group_set("company", "initech", {"name": "Initech"})
    assert collector.groups("company", "acme")[0]["properties"] == {
        "name": "Acme",
        "regions": ["eu"],
    }
    assert len(collector.groups()) == 2


@pytest.mark.mixtrack_identity("original")  # an Original ID Merge client
def test_import_with_api_secret_and_merge(mp: mixpanel.Mixpanel, collector: Collector) -> None:
    month_ago = time.time() - 30 * 86400
    mp.import_data("key", "user-42", "Purchased", month_ago, {"price": 9}, api_secret="secret")
    mp.merge("secret", "user-42", "anon-7")
    [purchase] = collector.events("Purchased", endpoint="import")
    assert purchase["properties"]["time"] == pytest.approx(month_ago)
    assert collector.identity("anon-7") == ["user-42", "anon-7"]


def test_import_credentials_are_checked_when_required() -> None:
    with Collector(secrets=["secret", "svc:pass"]) as collector:
        url = collector.url
        legacy = mixpanel.Mixpanel("tok", consumer=mixpanel.Consumer(import_url=f"{url}/import"))
        legacy.import_data("key", "u1", "Old", time.time() - 86400, api_secret="secret")
        with pytest.raises(mixpanel.MixpanelException, match="Invalid credentials"):
            legacy.import_data("key", "u1", "Old", time.time() - 86400, api_secret="wrong")
        account = mixpanel.ServiceAccountCredentials("svc", "pass", "12345")
        modern = mixpanel.Mixpanel(
            "tok",
            consumer=mixpanel.Consumer(import_url=f"{url}/import", credentials=account),
        )
        modern.import_data(None, "u2", "Old", time.time() - 86400)
        assert [e["properties"]["distinct_id"] for e in collector.events("Old")] == ["u1", "u2"]
        assert [r["status"] for r in collector.rejected()] == [401]


@pytest.mark.mixtrack_identity("original")  # an Original ID Merge client
def test_alias_and_identity_resolution(collector: Collector, mp: mixpanel.Mixpanel) -> None:
    # mp.alias() always builds a default Consumer (Mixpanel's own host); send what it sends.
    mp._consumer.send(
        "events",
        '{"event":"$create_alias","properties":{"distinct_id":"user-42","alias":"a@x.io",'
        '"token":"py-token"}}',
    )
    mp.track("a@x.io", "Viewed page")
    mp.track("user-42", "Purchased")
    found = collector.events(distinct_id="user-42", identity=True)
    assert [e["event"] for e in found] == ["$create_alias", "Viewed page", "Purchased"]


def test_buffered_consumer_batches(collector: Collector) -> None:
    url = collector.url
    consumer = mixpanel.BufferedConsumer(max_size=50, events_url=f"{url}/track")
    mp = mixpanel.Mixpanel("py-token", consumer=consumer)
    for i in range(120):
        mp.track(f"user-{i}", "Batched")
    consumer.flush()
    assert len(collector.events("Batched")) == 120
    assert collector.stats()["requests_by_endpoint"] == {"track": 3}


def test_refusal_surfaces_as_mixpanel_exception(
    mp: mixpanel.Mixpanel, collector: Collector
) -> None:
    with pytest.raises(mixpanel.MixpanelException, match="placeholder"):
        mp.track("undefined", "Signed up")
    [rejection] = collector.rejected()
    assert rejection["failed_records"][0]["field"] == "properties.distinct_id"
