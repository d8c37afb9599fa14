"""Property-based: any input either queues a message that round-trips through JSON, or raises
ValidationError. Never anything else, and never a lost earlier message."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

import mixtrack
from mixtrack.testing import capture

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=4),
    st.datetimes(),
    st.dates(),
    st.decimals(allow_nan=True),
    st.uuids(),
    st.builds(object),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)
names = st.one_of(st.text(max_size=12), st.integers(), st.none())
properties = st.one_of(st.dictionaries(names, values, max_size=8), values)

CLIENT = capture(token="tok")


@settings(max_examples=400, deadline=None)
@given(
    distinct_id=st.one_of(st.text(max_size=20), st.integers(), st.none(), st.uuids()),
    event=st.one_of(st.text(max_size=300), st.none(), st.integers()),
    props=properties,
)
def test_track_queues_json_or_raises_validation_error(distinct_id, event, props):
    client = CLIENT.client
    before = client.stats().enqueued
    try:
        client.track(distinct_id, event, props)
    except mixtrack.ValidationError as exc:
        assert str(exc)
        assert client.stats().enqueued == before
        return
    assert client.stats().enqueued == before + 1
    assert client.flush(5)
    event = CLIENT.transport.events()[-1]
    assert json.loads(json.dumps(event, allow_nan=False)) == event


@settings(max_examples=200, deadline=None)
@given(props=st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=6))
def test_delivered_messages_round_trip(props):
    captured = capture(token="tok")
    try:
        captured.client.track("u", "E", props)
    except mixtrack.ValidationError:
        return
    (event,) = captured
    encoded = json.dumps(event, allow_nan=False)
    assert json.loads(encoded) == event
    for key in props:
        assert key in event["properties"]
    captured.client.shutdown(2)


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from(
        [
            "people_set",
            "people_set_once",
            "people_increment",
            "people_append",
            "people_union",
            "people_remove",
        ]
    ),
    props=st.dictionaries(names, values, max_size=4),
)
def test_profile_operations_queue_json_or_raise_validation_error(op, props):
    client = CLIENT.client
    before = client.stats().enqueued
    try:
        getattr(client, op)("u", props)
    except mixtrack.ValidationError as exc:
        assert str(exc)
        assert client.stats().enqueued == before
        return
    assert client.stats().enqueued == before + 1


def test_known_tricky_values():
    captured = capture()
    captured.client.track(
        "u",
        "E",
        {
            "d": Decimal("1.5"),
            "u": uuid.UUID(int=5),
            "big": 10**30,
            "when": dt.datetime(2024, 2, 29, 23, 59, 59),
        },
    )
    (event,) = captured
    assert event["properties"]["big"] == 10**30  # beyond 64 bits: the stdlib encoder takes it
    assert event["properties"]["d"] == 1.5
    with __import__("pytest").raises(mixtrack.ValidationError, match="Decimal"):
        captured.client.track("u", "E", {"bad": Decimal("NaN")})
    captured.client.shutdown(2)
