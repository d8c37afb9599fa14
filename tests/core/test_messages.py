"""What track() and friends put in a message, and what they refuse at the call site."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from decimal import Decimal

import pytest
from freezegun import freeze_time

import mixtrack
from mixtrack.testing import capture


@pytest.fixture
def events():
    captured = capture(token="tok")
    yield captured
    captured.client.shutdown(timeout=5)


class Plan(enum.Enum):
    PRO = "pro"


@freeze_time("2024-05-01 12:00:00")
def test_event_message_has_mixpanel_fields(events):
    events.client.track("user-42", "Signed up", {"plan": "pro"})
    (event,) = events
    props = event["properties"]
    assert event["event"] == "Signed up"
    assert props["token"] == "tok"
    assert props["distinct_id"] == "user-42"
    assert props["time"] == 1714564800000  # epoch milliseconds
    assert props["mp_lib"] == "mixtrack"
    assert props["$lib_version"] == mixtrack.__version__
    assert props["plan"] == "pro"
    insert_id = props["$insert_id"]
    assert 0 < len(insert_id) <= 36 and insert_id.isalnum()


def test_insert_ids_are_unique(events):
    for i in range(500):
        events.client.track("u", "E", {"i": i})
    ids = {e["properties"]["$insert_id"] for e in events}
    assert len(ids) == 500


def test_values_are_encoded(events):
    events.client.track(
        "u",
        "Typed",
        {
            "when": dt.datetime(2024, 1, 2, 3, 4, 5),
            "aware": dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "day": dt.date(2024, 1, 2),
            "price": Decimal("9.99"),
            "count": Decimal("3"),
            "id": uuid.UUID(int=1),
            "plan": Plan.PRO,
            "tags": ("a", "b"),
            "nested": {"k": [1, 2.5, None, True]},
        },
    )
    props = events[0]["properties"]
    assert props["when"] == "2024-01-02T03:04:05"
    assert props["aware"] == "2024-01-02T03:04:05"  # converted to UTC
    assert props["day"] == "2024-01-02"
    assert props["price"] == 9.99
    assert props["count"] == 3
    assert props["id"] == "00000000-0000-0000-0000-000000000001"
    assert props["plan"] == "pro"
    assert props["tags"] == ["a", "b"]
    assert props["nested"] == {"k": [1, 2.5, None, True]}


def test_time_and_insert_id_can_be_given(events):
    events.client.track(
        "u", "E", time=dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc), insert_id="abc-1"
    )
    events.client.track("u", "F", {"time": 1_700_000_000})  # seconds, as mixpanel-python allows
    first, second = events
    assert first["properties"]["time"] == 1672531200000
    assert first["properties"]["$insert_id"] == "abc-1"
    assert second["properties"]["time"] == 1_700_000_000_000


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.track("u", ""), "event name must be a non-empty str"),
        (lambda c: c.track("u", None), "event name must be a non-empty str"),
        (lambda c: c.track("u", "x" * 256), "at most 255 characters"),
        (lambda c: c.track(None, "E"), "distinct_id must be a non-empty str"),
        (lambda c: c.track("", "E"), "distinct_id must be a non-empty str"),
        (lambda c: c.track("undefined", "E"), "'undefined' is a placeholder that Mixpanel"),
        (lambda c: c.track(0, "E"), "'0' is a placeholder"),
        (lambda c: c.identify("u", anon_id=" NULL "), "anon_id ' NULL ' is a placeholder"),
        (lambda c: c.track("u", "E", {"": 1}), "property names must be non-empty str"),
        (lambda c: c.track("u", "E", {1: 1}), "property names must be non-empty str, got 1"),
        (lambda c: c.track("u", "E", {"f": object()}), "property 'f' has a value of type object"),
        (lambda c: c.track("u", "E", {"f": b"x"}), "property 'f' has a value of type bytes"),
        (lambda c: c.track("u", "E", {"f": math.nan}), "property 'f' must be a finite number"),
        (
            lambda c: c.track("u", "E", {"f": {"g": [math.inf]}}),
            "property 'f.g[0]' must be a finite",
        ),
        (lambda c: c.track("u", "E", {"f": "\ud800"}), "not valid Unicode"),
        (lambda c: c.track("u", "E", {"a": {"b": {"c": {"d": 1}}}}), "deeper than 3 levels"),
        (lambda c: c.track("u", "E", {"l": list(range(300))}), "has 300 items"),
        (lambda c: c.track("u", "E", {f"p{i}": i for i in range(260)}), "at most 255"),
        (lambda c: c.track("u", "E", "plan=pro"), "properties must be a dict, got str"),
        (lambda c: c.track("u", "E", insert_id="has space"), "insert_id must be 1 to 36"),
        (lambda c: c.track("u", "E", insert_id="x" * 37), "insert_id must be 1 to 36"),
        (lambda c: c.track("u", "E", time="yesterday"), "time must be a datetime"),
        (
            lambda c: c.track(
                "u",
                "E",
                {
                    "big": "x" * 300_000,
                    "b2": "y" * 300_000,
                    "b3": "z" * 300_000,
                    "b4": "w" * 200_000,
                },
            ),
            "Mixpanel refuses messages of 1000000 bytes",
        ),
        (lambda c: c.import_event("u", "E", None), "needs a timestamp"),
        (lambda c: c.import_event("u", "E", dt.datetime(1970, 6, 1)), "out of range"),
        (lambda c: c.people_set("u", {}), "$set needs a non-empty dict"),
        (lambda c: c.people_increment("u", {"n": "one"}), "$add property 'n' must be a number"),
        (lambda c: c.people_union("u", {"n": "one"}), "$union property 'n' must be a list"),
        (lambda c: c.people_unset("u", "name"), "$unset needs a list of property names"),
        (lambda c: c.group_set("", "acme", {"a": 1}), "group_key must be a non-empty str"),
        (lambda c: c.people_track_charge("u", "9.99"), "amount must be a number"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_is_lost(events, call, message):
    events.client.track("u", "Before")
    with pytest.raises(mixtrack.ValidationError) as info:
        call(events.client)
    assert message in str(info.value)
    events.client.track("u", "After")
    assert events.names() == ["Before", "After"]
    stats = events.client.stats()
    assert stats.enqueued == stats.sent == 2


def test_caller_dict_changes_after_track_do_not_leak(events):
    props = {"plan": "pro", "tags": ["a"]}
    events.client.track("u", "E", props)
    props["plan"] = "free"
    props["tags"].append("b")
    assert events[0]["properties"]["plan"] == "pro"


def test_int_distinct_ids_become_str(events):
    events.client.track(42, "E")
    events.client.people_set(7, {"a": 1})
    assert events[0]["properties"]["distinct_id"] == "42"
    assert events.profiles()[0]["$distinct_id"] == "7"


def test_super_properties_and_context(events):
    client = events.client
    client.register({"app": "shop", "plan": "base"})
    with mixtrack.context(distinct_id="user-9", request_id="r-1", plan="ctx"):
        client.track(None, "Viewed", {"path": "/"})
        with mixtrack.context(request_id="r-2"):
            client.track(None, "Clicked")
    client.unregister("app")
    client.track("u2", "Outside")
    viewed, clicked, outside = events
    assert viewed["properties"]["distinct_id"] == "user-9"
    assert viewed["properties"]["app"] == "shop"
    assert viewed["properties"]["plan"] == "ctx"  # context beats super properties
    assert viewed["properties"]["request_id"] == "r-1"
    assert clicked["properties"]["request_id"] == "r-2"
    assert "request_id" not in outside["properties"] and "app" not in outside["properties"]


@freeze_time("2024-05-01 12:00:00")
def test_profile_and_group_operations(events):
    c = events.client
    c.people_set("u", {"$email": "a@b.c"})
    c.people_set_once("u", {"first": "x"})
    c.people_increment("u", {"visits": 1})
    c.people_append("u", {"pages": "/a"})
    c.people_union("u", {"tags": ["x"]})
    c.people_remove("u", {"tags": "y"})
    c.people_unset("u", ["old"])
    c.people_track_charge("u", 9.5, {"sku": "A1"})
    c.people_clear_charges("u")
    c.people_delete("u", meta={"$ignore_alias": True})
    ops = [
        next(k for k in m if k not in ("$token", "$distinct_id", "$time", "$ignore_alias"))
        for m in events.profiles()
    ]
    assert ops == [
        "$set",
        "$set_once",
        "$add",
        "$append",
        "$union",
        "$remove",
        "$unset",
        "$append",
        "$unset",
        "$delete",
    ]
    profiles = events.profiles()
    assert profiles[0] == {
        "$token": "tok",
        "$distinct_id": "u",
        "$time": 1714564800000,
        "$set": {"$email": "a@b.c"},
    }
    assert profiles[7]["$append"] == {"$transactions": {"sku": "A1", "$amount": 9.5}}
    assert profiles[8]["$unset"] == ["$transactions"]
    assert profiles[9]["$delete"] == "" and profiles[9]["$ignore_alias"] is True

    c.group_set("company", "acme", {"plan": "enterprise"})
    c.group_set_once("company", "acme", {"since": 2020})
    c.group_union("company", "acme", {"tags": ["b2b"]})
    c.group_remove("company", "acme", {"tags": "b2c"})
    c.group_unset("company", "acme", ["old"])
    c.group_delete("company", "acme")
    c.flush()
    groups = events.transport.group_updates()
    assert groups[0] == {
        "$token": "tok",
        "$group_key": "company",
        "$group_id": "acme",
        "$time": 1714564800000,
        "$set": {"plan": "enterprise"},
    }
    assert [
        g
        for g in groups[1:]
        if "$set_once" in g or "$union" in g or "$remove" in g or "$unset" in g or "$delete" in g
    ] == groups[1:]


def test_identify_alias_merge_messages(events):
    c = events.client
    c.identify("user-42", anon_id="anon-7f3")
    c.alias("user-42", "anon-7f3")
    c.merge("a", "b")
    c.flush()
    identify = events.transport.messages("track")[0]
    assert identify["event"] == "$identify"
    assert identify["properties"]["distinct_id"] == "user-42"
    assert identify["properties"]["$anon_distinct_id"] == "anon-7f3"
    alias = events.transport.messages("track")[1]
    assert alias["event"] == "$create_alias"
    assert alias["properties"]["distinct_id"] == "anon-7f3"
    assert alias["properties"]["alias"] == "user-42"
    merge = events.transport.messages("import")[0]
    assert merge == {"event": "$merge", "properties": {"$distinct_ids": ["a", "b"], "token": "tok"}}


def test_import_event_goes_to_import_with_its_time(events):
    events.client.import_event("u", "Purchased", dt.datetime(2019, 5, 1), {"sku": "A"})
    events.client.flush()
    (event,) = events.transport.messages("import")
    assert event["properties"]["time"] == 1556668800000


def test_every_message_round_trips_through_json(events):
    events.client.track("u", "E", {"s": "é ✓", "n": 2**70, "f": -0.0})
    event = events[0]
    assert json.loads(json.dumps(event)) == event
    assert event["properties"]["n"] == 2**70
