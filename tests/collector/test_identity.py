"""Identity clusters under Mixpanel's two ID-merge systems: the pure rules, then the collector."""

from __future__ import annotations

import json

import httpx
import pytest

from mixtrack.protocol.identity import MAX_CLUSTER_IDS, Link, check_mode, clusters, links_of
from mixtrack.testing._collector import Collector
from tests.collector._helpers import event


def test_links_of_both_systems() -> None:
    assert links_of("$identify", {"distinct_id": "user-42", "$anon_distinct_id": "$device:a"}) == [
        Link("user-42", "$device:a", "original")
    ]
    assert links_of("$identify", {"$identified_id": "u", "$anon_id": "x"}) == [
        Link("u", "x", "original")
    ]
    assert links_of("$create_alias", {"distinct_id": "u", "alias": "al"}) == [
        Link("u", "al", "original")
    ]
    assert links_of("$merge", {"$distinct_ids": ["a", "b", "c"]}) == [
        Link("a", "b", "original"),
        Link("a", "c", "original"),
    ]
    # mixpanel-browser's $identify in a Simplified project carries both ids as well.
    both = {
        "distinct_id": "u",
        "$anon_distinct_id": "$device:d",
        "$device_id": "d",
        "$user_id": "u",
    }
    assert links_of("$identify", both) == [
        Link("u", "$device:d", "simplified"),
        Link("u", "$device:d", "original"),
    ]
    assert links_of("Paid", {"distinct_id": "u", "$user_id": "u"}) == []
    assert links_of("$merge", {"$distinct_ids": "a"}) == []


def test_simplified_merges_devices_into_users_and_never_two_users() -> None:
    links = [
        *links_of("Viewed", {"$device_id": "d1", "$user_id": "alice"}),
        *links_of("Viewed", {"$device_id": "d2", "$user_id": "alice"}),
        *links_of("Viewed", {"$device_id": "d1", "$user_id": "bob"}),  # shared laptop
        *links_of("$identify", {"distinct_id": "carol", "$anon_distinct_id": "$device:d3"}),
        *links_of("$merge", {"$distinct_ids": ["alice", "bob"]}),
    ]
    by_id = clusters(links, "simplified")
    assert by_id["$device:d1"] == ["alice", "$device:d1", "$device:d2"]
    assert by_id["bob"] == ["bob"]
    assert "carol" not in by_id  # $identify merges nothing here
    original = clusters(links, "original")
    assert original["carol"] == ["carol", "$device:d3"]
    assert original["bob"] == ["alice", "bob"]


def test_original_caps_a_cluster_at_500_ids() -> None:
    links = [Link("user", f"anon-{i}", "original") for i in range(MAX_CLUSTER_IDS + 5)]
    by_id = clusters(links, "original")
    assert len(by_id["user"]) == MAX_CLUSTER_IDS
    assert by_id[f"anon-{MAX_CLUSTER_IDS}"] == [f"anon-{MAX_CLUSTER_IDS}"]


def test_an_unknown_mode_is_named() -> None:
    with pytest.raises(ValueError, match="simplified, original, got 'legacy'"):
        check_mode("legacy")


def post(collector: Collector, records: list[dict[str, object]]) -> None:
    answer = httpx.post(
        f"{collector.url}/track", data={"data": json.dumps(records)}, trust_env=False
    )
    assert answer.status_code == 200, answer.text


def login_story(collector: Collector) -> None:
    """A visitor sees a variant anonymously, then logs in and buys; told both ways."""
    post(
        collector,
        [
            event(
                "$experiment_started",
                "$device:d1",
                **{"$device_id": "d1", "Experiment name": "checkout", "Variant name": "treatment"},
            ),
            event("$identify", "user-1", **{"$anon_distinct_id": "$device:d1"}),
            event("Order completed", "user-1", **{"$device_id": "d1", "$user_id": "user-1"}),
            event(
                "$experiment_started",
                "anon-9",
                **{"Experiment name": "checkout", "Variant name": "control"},
            ),
            event("$identify", "user-9", **{"$anon_distinct_id": "anon-9"}),
            event("Order completed", "user-9"),
        ],
    )


def test_collector_default_is_simplified(collector: Collector) -> None:
    assert collector.identity_mode == "simplified"
    login_story(collector)
    assert collector.identity("$device:d1") == ["user-1", "$device:d1"]
    assert collector.identity("anon-9") == ["anon-9"]
    found = collector.events(distinct_id="user-1", identity=True)
    assert [e["event"] for e in found] == ["$experiment_started", "$identify", "Order completed"]
    audit = httpx.get(
        f"{collector.url}/_mixtrack/audit",
        params={"experiment": "checkout", "metric": "Order completed"},
        trust_env=False,
    ).json()
    by_variant = {v["variant"]: v for v in audit["readout"]["variants"]}
    assert by_variant["treatment"]["converted"] == 1
    assert by_variant["control"]["converted"] == 0


@pytest.mark.mixtrack_identity("original")
def test_collector_in_original_mode(collector: Collector) -> None:
    assert collector.identity_mode == "original"
    login_story(collector)
    assert collector.identity("anon-9") == ["user-9", "anon-9"]
    assert collector.identity("$device:d1") == ["user-1", "$device:d1"]
    audit = httpx.get(
        f"{collector.url}/_mixtrack/audit",
        params={"experiment": "checkout", "metric": "Order completed"},
        trust_env=False,
    ).json()
    by_variant = {v["variant"]: v for v in audit["readout"]["variants"]}
    assert by_variant["control"]["converted"] == 1
    # Either system can be asked for, whatever the collector runs with.
    simplified = httpx.get(
        f"{collector.url}/_mixtrack/identity",
        params={"distinct_id": "anon-9", "mode": "simplified"},
        trust_env=False,
    ).json()
    assert simplified["cluster"] == ["anon-9"] and simplified["mode"] == "simplified"


def test_mode_switches_while_running_and_links_are_stored_once(tmp_path: object) -> None:
    with Collector(identity="original") as collector:
        post(collector, [event("Viewed", "u", **{"$device_id": "d", "$user_id": "u"})] * 3)
        post(collector, [event("$identify", "u", **{"$anon_distinct_id": "anon-1"})])
        assert collector.identity("anon-1") == ["u", "anon-1"]
        assert collector.identity("$device:d") == ["$device:d"]
        collector.identity_mode = "simplified"
        assert collector.identity("$device:d") == ["u", "$device:d"]
        assert collector.identity("anon-1") == ["anon-1"]
        assert len(collector.app.store.identity_links()) == 2
        with pytest.raises(ValueError, match="identity mode must be one of"):
            collector.identity_mode = "legacy"
