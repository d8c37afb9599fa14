"""Hypothesis-generated input into every call that ``tests/core/test_properties.py`` does not
already cover (groups, people_unset/delete/charges, identity calls, import_event, context):
each call either queues one message that is valid JSON, or raises ``ValidationError`` with a
message and queues nothing. Whatever is queued, a real collector then takes without loss."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mixtrack
from mixtrack.testing import Collector, capture

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.binary(max_size=4),
    st.datetimes(),
    st.uuids(),
    st.builds(object),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=3),
    ),
    max_leaves=8,
)
ids = st.one_of(st.text(max_size=40), st.integers(), st.none(), st.uuids(), st.floats())
keys = st.one_of(st.text(max_size=12), st.integers(), st.none())
props = st.one_of(st.dictionaries(keys, values, max_size=5), values)
numbers = st.dictionaries(keys, st.one_of(st.integers(), st.floats(), st.text(max_size=3)))
times = st.one_of(
    st.datetimes(min_value=dt.datetime(1960, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.floats(min_value=-1e13, max_value=1e13),
    st.integers(min_value=-(10**14), max_value=10**14),
    st.none(),
    st.text(max_size=10),
)

CALLS: dict[str, Any] = {
    "group_set": st.tuples(keys, ids, props),
    "group_set_once": st.tuples(keys, ids, props),
    "group_union": st.tuples(keys, ids, st.dictionaries(keys, st.lists(values, max_size=3))),
    "group_remove": st.tuples(keys, ids, props),
    "group_unset": st.tuples(keys, ids, st.one_of(st.lists(keys, max_size=3), values)),
    "group_delete": st.tuples(keys, ids),
    "people_unset": st.tuples(ids, st.one_of(st.lists(keys, max_size=3), values)),
    "people_delete": st.tuples(ids),
    "people_track_charge": st.tuples(ids, st.one_of(st.floats(), st.integers(), values), props),
    "people_clear_charges": st.tuples(ids),
    "people_increment": st.tuples(ids, numbers),
    "identify": st.tuples(ids, ids),
    "alias": st.tuples(ids, ids),
    "merge": st.tuples(ids, ids),
    "import_event": st.tuples(ids, st.one_of(st.text(max_size=30), st.none()), times, props),
}

call = st.sampled_from(sorted(CALLS)).flatmap(lambda name: st.tuples(st.just(name), CALLS[name]))

CAPTURED = capture(token="tok")


def finite_json(value: Any) -> bool:
    text = json.dumps(value, allow_nan=False)
    return json.loads(text) is not None


@settings(max_examples=600, deadline=None)
@given(call=call, meta=st.one_of(st.none(), st.dictionaries(keys, values, max_size=2)))
def test_calls_queue_json_or_raise_validation_error(call, meta):
    name, args = call
    client = CAPTURED.client
    before = client.stats().enqueued
    kwargs = {"meta": meta} if meta is not None and name.startswith(("group_", "people_")) else {}
    try:
        getattr(client, name)(*args, **kwargs)
    except mixtrack.ValidationError as exc:
        assert str(exc).strip()
        assert client.stats().enqueued == before
        return
    assert client.stats().enqueued == before + 1
    assert client.flush(5)
    message = CAPTURED.transport.messages()[-1] if hasattr(CAPTURED.transport, "messages") else None
    if message is not None:
        assert finite_json(message)


@settings(max_examples=300, deadline=None)
@given(
    distinct_id=ids,
    context_props=st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=4),
    event_props=st.one_of(st.none(), st.dictionaries(st.text(max_size=8), values, max_size=3)),
)
def test_context_properties_join_events_or_raise_at_once(distinct_id, context_props, event_props):
    client = CAPTURED.client
    before = client.stats().enqueued
    try:
        with mixtrack.context(distinct_id=distinct_id, **context_props):
            client.track(None, "In context", event_props)
    except mixtrack.ValidationError as exc:
        assert str(exc).strip()
        assert client.stats().enqueued == before
        return
    assert client.stats().enqueued == before + 1
    assert client.flush(5)
    event = CAPTURED.transport.events()[-1]
    assert finite_json(event)
    for key in context_props:
        assert key in event["properties"] or (event_props and key in event_props)


@pytest.fixture(scope="module")
def collector():
    with Collector() as running:
        yield running


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    distinct_id=ids,
    event=st.one_of(st.text(min_size=1, max_size=60), st.none()),
    properties=st.dictionaries(st.text(max_size=10), values, max_size=6),
)
def test_whatever_the_sdk_accepts_the_collector_stores(collector, distinct_id, event, properties):
    """No good data lost: an event that passes the SDK's checks is stored by a collector
    validating like Mixpanel (``strict=1``) or counted as rejected, never dropped, and the
    good event sent right after it is always stored."""
    collector.reset()
    with mixtrack.Client(
        "tok", api_host=collector.url, flush_interval=0.01, invalid="raise"
    ) as client:
        try:
            client.track(distinct_id, event, properties)
        except mixtrack.ValidationError:
            return
        client.track("marker", "Good event", {"n": 1})
        assert client.flush(10)
        stats = client.stats()
    assert stats.pending == 0 and stats.dropped == 0, stats
    assert collector.events("Good event", "marker"), "the good event after it was lost"
    # what the SDK accepts, a collector validating like Mixpanel accepts too
    assert stats.rejected == 0, collector.rejected()
    assert len(collector.events()) == 2
