"""The query and control API under /_mixtrack/, and the Collector/fixture layer over it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from mixtrack.testing._collector import Collector
from tests.collector._helpers import event


def send(http: httpx.Client, *events: dict[str, object]) -> None:
    assert http.post("/track", data={"data": json.dumps(list(events))}).content == b"1"


def test_filters_combine(http: httpx.Client, collector: Collector) -> None:
    now = time.time()
    send(
        http,
        event("Viewed", "u1", time=now - 300, page="home", n=1, flag=True),
        event("Viewed", "u2", time=now - 200, page="cart", n=2, flag=False),
        event("Bought", "u1", time=now - 100, page="cart", n=2, meta={"a": 1}),
    )
    assert [e["event"] for e in collector.events()] == ["Viewed", "Viewed", "Bought"]
    assert len(collector.events("Viewed")) == 2
    assert len(collector.events(distinct_id="u1")) == 2
    assert len(collector.events("Viewed", page="cart")) == 1
    assert len(collector.events(n=2)) == 2
    assert len(collector.events(flag=True)) == 1
    assert len(collector.events(meta={"a": 1})) == 1
    assert len(collector.events(since=now - 250)) == 2
    assert len(collector.events(since=now - 250, until=now - 150)) == 1
    assert len(collector.events(endpoint="track")) == 3
    assert collector.events(endpoint="import") == []
    assert len(http.get("/_mixtrack/events?prop.page=home").json()["events"]) == 1


def test_paging_in_arrival_order(http: httpx.Client, collector: Collector) -> None:
    send(http, *[event("Step", "u", step=i) for i in range(25)])
    page = http.get("/_mixtrack/events?limit=10&offset=5").json()
    assert [e["properties"]["step"] for e in page["events"]] == list(range(5, 15))
    assert (page["count"], page["total"]) == (10, 25)
    following = http.get(f"/_mixtrack/events?limit=10&after={page['after']}&meta=1").json()
    assert following["events"][0]["properties"]["step"] == 15
    assert set(following["events"][0]) == {"event", "properties", "seq", "endpoint", "received_at"}


def test_bad_query_parameters_are_named(http: httpx.Client) -> None:
    answer = http.get("/_mixtrack/events?evnt=x")
    assert answer.status_code == 400 and "unknown parameter 'evnt'" in answer.json()["error"]
    answer = http.get("/_mixtrack/events?limit=-1")
    assert "limit must be a non-negative integer, got '-1'" in answer.json()["error"]
    answer = http.get("/_mixtrack/events?since=yesterday")
    assert "since must be epoch seconds, got 'yesterday'" in answer.json()["error"]


def test_stats_reset_and_experiments(http: httpx.Client, collector: Collector) -> None:
    exposure = {"Experiment name": "checkout", "Variant name": "treatment"}
    send(
        http,
        event("$experiment_started", "u1", **exposure),
        event("$experiment_started", "u2", **exposure),
        event("$experiment_started", "u3", **{**exposure, "Variant name": "control"}),
    )
    assert collector.experiments() == [
        {
            "experiment": "checkout",
            "variants": {
                "control": {"exposures": 1, "users": 1},
                "treatment": {"exposures": 2, "users": 2},
            },
        }
    ]
    stats = collector.stats()
    assert stats["requests"] == 1 and stats["events_stored"] == 3 and stats["tokens"] == ["tok"]
    assert stats["stored"]["events"] == 3
    collector.faults("status", seconds=60)
    collector.reset()
    assert collector.events() == [] and collector.stats()["requests"] == 0
    assert collector.stats()["faults_active"] == 0


def test_collector_works_without_pytest_and_on_a_file(tmp_path: Path) -> None:
    db = tmp_path / "events.sqlite3"
    record = event(**{"$insert_id": "kept-on-disk"})
    with Collector(db=db) as collector:
        httpx.post(f"{collector.url}/track", data={"data": json.dumps([record])}, trust_env=False)
        assert collector.wait_for(1, "Signed up")
    with Collector(db=db) as reopened:
        assert len(reopened.events()) == 1  # stored on disk, read back by a new collector
        # The duplicate rule still knows the stored $insert_ids after a restart.
        httpx.post(f"{reopened.url}/track", data={"data": json.dumps([record])}, trust_env=False)
        assert reopened.stats()["duplicates_dropped"] == 1
        assert len(reopened.events()) == 1


def test_count_only_mode_counts_distinct_insert_ids() -> None:
    with Collector(count_only=True) as collector:
        with httpx.Client(base_url=collector.url, trust_env=False) as http:
            records = [event(**{"$insert_id": f"i{i % 3}"}) for i in range(6)]
            assert http.post("/import", json=records).json()["num_records_imported"] == 6
            assert http.post("/track", data={"data": "not even json"}).status_code == 400
        stats = collector.stats()
        assert stats["count_only"] is True
        assert stats["stored"]["events"] == 6 and stats["stored"]["distinct_insert_ids"] == 3
        assert collector.events() == []


def test_mixtrack_client_fixture_reaches_the_collector(
    mixtrack_client: object, mixtrack_collector: Collector
) -> None:
    client = mixtrack_client
    client.track("user-42", "Signed up", {"plan": "pro"})  # type: ignore[attr-defined]
    # No explicit flush: the fixture flushes the client before every read.
    [found] = mixtrack_collector.events("Signed up", plan="pro")
    assert found["properties"]["distinct_id"] == "user-42"
