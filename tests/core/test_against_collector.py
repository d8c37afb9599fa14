"""Every kind of call, through the real client, to the real local collector."""

from __future__ import annotations

import datetime as dt
import time

import pytest

import mixtrack


@pytest.mark.mixtrack_identity("original")  # client.identify sends $identify
@pytest.mark.parametrize("endpoint", ["import", "track"])
def test_events_profiles_groups_and_identity_arrive(mixtrack_collector, endpoint):
    with mixtrack.Client(
        "tok", api_host=mixtrack_collector.url, endpoint=endpoint, flush_interval=0.05
    ) as client:
        client.track("anon-1", "Viewed pricing", {"layout": "grid"})
        client.identify("user-1", anon_id="anon-1")
        client.track("user-1", "Signed up", {"plan": "pro", "at": dt.datetime(2024, 1, 1)})
        client.import_event("user-1", "Old order", dt.datetime(2020, 1, 1), {"revenue": 9.5})
        client.people_set("user-1", {"$name": "Ada", "plan": "pro"})
        client.people_set_once("user-1", {"first_seen": "2024-01-01", "plan": "free"})
        client.people_increment("user-1", {"orders": 2})
        client.people_union("user-1", {"tags": ["a", "b"]})
        client.people_remove("user-1", {"tags": "a"})
        client.people_unset("user-1", ["$name"])
        client.group_set("company", "acme", {"seats": 10})
        client.group_union("company", "acme", {"regions": ["eu"]})
        assert client.flush(10)
        stats = client.stats()
    assert stats.sent == stats.enqueued == 12 and stats.rejected == 0
    # arrival order across endpoints is not defined: separate batches, separate requests
    assert sorted(e["event"] for e in mixtrack_collector.events(distinct_id="user-1")) == [
        "$identify",
        "Old order",
        "Signed up",
    ]
    assert mixtrack_collector.events("Viewed pricing")[0]["properties"]["layout"] == "grid"
    profile = mixtrack_collector.profile("user-1")
    assert profile is not None
    props = profile.get("properties", profile)
    assert props["plan"] == "pro" and props["orders"] == 2 and props["tags"] == ["b"]
    assert "$name" not in props and props["first_seen"] == "2024-01-01"
    assert "anon-1" in mixtrack_collector.identity("user-1")
    (group,) = mixtrack_collector.groups()
    group_props = group.get("properties", group)
    assert group_props["seats"] == 10 and group_props["regions"] == ["eu"]


def test_a_batch_retried_after_a_lost_answer_is_stored_once(mixtrack_collector):
    # the collector is slower than the client's timeout: it stores the first attempt after
    # the client gave up on it, then the retry arrives with the same $insert_ids. The timer is
    # long so that flush() sends all 100 in the one (delayed) first attempt, however slow the
    # machine is at queueing them.
    mixtrack_collector.faults("delay", delay=1.0, count=1)
    with mixtrack.Client(
        "tok",
        api_host=mixtrack_collector.url,
        flush_interval=60,
        request_timeout=0.3,
        max_backoff=0.05,
        max_in_flight=1,
    ) as client:
        for i in range(100):
            client.track("u", "Once", {"i": i})
        assert client.flush(10)
        assert client.stats().retries >= 1
    deadline = time.monotonic() + 5
    while mixtrack_collector.stats()["duplicates_dropped"] < 100 and time.monotonic() < deadline:
        time.sleep(0.05)  # the delayed first attempt is stored after the retry
    assert mixtrack_collector.stats()["duplicates_dropped"] == 100
    assert sorted(e["properties"]["i"] for e in mixtrack_collector.events("Once")) == list(
        range(100)
    )
