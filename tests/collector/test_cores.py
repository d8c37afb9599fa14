"""Validation rules, profile operations and identity clusters (pure functions)."""

from __future__ import annotations

import pytest

from mixtrack.collector import _profiles
from mixtrack.collector._responses import FailedRecord
from mixtrack.collector._validate import Event, Rules, events, updates

NOW = 1_750_000_000.0
RULES = Rules(now=NOW)


def one(record: object, endpoint: str = "track", rules: Rules = RULES) -> Event | FailedRecord:
    [result] = events([record], endpoint=endpoint, rules=rules)
    return result


def props(**extra: object) -> dict[str, object]:
    return {"token": "tok", "distinct_id": "u1", "time": NOW, **extra}


def test_valid_event_keeps_properties_and_normalises_time() -> None:
    result = one({"event": "e", "properties": props(time=NOW * 1000, **{"$insert_id": "a-1"})})
    assert isinstance(result, Event)
    assert (
        result.time == NOW and result.insert_id == "a-1" and result.properties["time"] == NOW * 1000
    )


@pytest.mark.parametrize(
    ("record", "endpoint", "field", "message"),
    [
        ([1], "track", "", "must be a JSON object"),
        ({"properties": props()}, "track", "event", "non-empty string"),
        ({"event": "", "properties": props()}, "track", "event", "non-empty string"),
        ({"event": "e"}, "track", "properties", "must be a JSON object"),
        (
            {"event": "e", "properties": {"distinct_id": "u1"}},
            "track",
            "properties.token",
            "missing",
        ),
        (
            {"event": "e", "properties": {"token": "tok"}},
            "track",
            "properties.distinct_id",
            "missing",
        ),
        (
            {"event": "e", "properties": props(distinct_id="null")},
            "track",
            "properties.distinct_id",
            "placeholder",
        ),
        (
            {"event": "e", "properties": props(distinct_id=[1])},
            "track",
            "properties.distinct_id",
            "string or a number",
        ),
        (
            {"event": "e", "properties": props(time=NOW - 6 * 86400)},
            "track",
            "properties.time",
            "5 days",
        ),
        (
            {"event": "e", "properties": props(time="yesterday")},
            "track",
            "properties.time",
            "seconds",
        ),
        (
            {"event": "e", "properties": props(time=NOW + 7200)},
            "import",
            "properties.time",
            "future",
        ),
        (
            {"event": "e", "properties": props(time=1000)},
            "import",
            "properties.time",
            "before 1971",
        ),
        (
            {"event": "e", "properties": {"token": "t", "distinct_id": "u"}},
            "import",
            "properties.time",
            "required",
        ),
        (
            {"event": "e", "properties": props(**{"$insert_id": "x" * 37})},
            "track",
            "properties.$insert_id",
            "36",
        ),
        (
            {"event": "e", "properties": props(**{"$insert_id": "has space"})},
            "track",
            "properties.$insert_id",
            "A-Z",
        ),
        (
            {"event": "e", "properties": props(**{f"p{i}": i for i in range(300)})},
            "track",
            "properties",
            "limit is 255",
        ),
        (
            {"event": "e", "properties": props(deep={"a": {"b": {"c": {"d": 1}}}})},
            "track",
            "properties.deep",
            "deeper",
        ),
        (
            {"event": "e", "properties": props(big=list(range(300)))},
            "track",
            "properties.big",
            "300 items",
        ),
    ],
)
def test_each_refusal_names_field_and_value(
    record: object, endpoint: str, field: str, message: str
) -> None:
    result = one(record, endpoint)
    assert isinstance(result, FailedRecord)
    assert result.field == field and message in result.message


def test_unknown_token_when_tokens_are_configured() -> None:
    result = one({"event": "e", "properties": props(token="other")}, rules=Rules({"tok"}, NOW))
    assert isinstance(result, FailedRecord) and "unknown project token 'other'" in result.message


def test_failed_record_carries_index_and_insert_id() -> None:
    results = events(
        [
            {"event": "ok", "properties": props()},
            {"event": "", "properties": props(**{"$insert_id": "abc"})},
        ],
        endpoint="track",
        rules=RULES,
    )
    assert isinstance(results[0], Event)
    assert results[1] == FailedRecord(
        1, "abc", "event", "'event' must be a non-empty string, got ''"
    )


def test_merge_without_time_or_distinct_id_is_accepted_on_import() -> None:
    result = one(
        {"event": "$merge", "properties": {"$distinct_ids": ["a", "b"], "token": "t"}}, "import"
    )
    assert isinstance(result, Event) and result.distinct_id == "a"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"$distinct_id": "u", "$set": {}}, "token is missing"),
        ({"$token": "t", "$set": {}}, "'$distinct_id' is missing"),
        ({"$token": "t", "$distinct_id": "u"}, "exactly one of"),
        ({"$token": "t", "$distinct_id": "u", "$set": {}, "$unset": []}, "exactly one of"),
        ({"$token": "t", "$distinct_id": "u", "$set": [1]}, "takes a JSON object"),
        ({"$token": "t", "$distinct_id": "u", "$add": {"n": "1"}}, "needs numbers"),
        ({"$token": "t", "$distinct_id": "u", "$union": {"n": 1}}, "needs lists"),
        ({"$token": "t", "$distinct_id": "u", "$unset": "n"}, "list of property names"),
    ],
)
def test_profile_update_refusals(record: object, message: str) -> None:
    [result] = updates([record], endpoint="engage", rules=RULES)
    assert isinstance(result, FailedRecord) and message in result.message


def test_group_update_needs_key_and_id() -> None:
    [missing_key, missing_id, ok] = updates(
        [
            {"$token": "t", "$group_id": "acme", "$set": {}},
            {"$token": "t", "$group_key": "company", "$set": {}},
            {"$token": "t", "$group_key": "company", "$group_id": "acme", "$set": {"a": 1}},
        ],
        endpoint="groups",
        rules=RULES,
    )
    assert isinstance(missing_key, FailedRecord) and missing_key.field == "$group_key"
    assert isinstance(missing_id, FailedRecord) and missing_id.field == "$group_id"
    assert not isinstance(ok, FailedRecord) and ok.group_key == "company" and ok.id == "acme"


def test_profile_operations() -> None:
    doc = _profiles.apply(None, "$set", {"plan": "free", "tags": ["a"], "n": 1})
    doc = _profiles.apply(doc, "$set_once", {"plan": "pro", "first": "x"})
    assert doc == {"plan": "free", "tags": ["a"], "n": 1, "first": "x"}
    doc = _profiles.apply(doc, "$add", {"n": 2.5, "m": 1})
    doc = _profiles.apply(doc, "$append", {"tags": "b", "log": 1})
    doc = _profiles.apply(doc, "$union", {"tags": ["b", "c"]})
    doc = _profiles.apply(doc, "$remove", {"tags": "a"})
    doc = _profiles.apply(doc, "$unset", ["first"])
    assert doc == {"plan": "free", "tags": ["b", "c"], "n": 3.5, "m": 1, "log": [1]}
    assert _profiles.apply(doc, "$delete", "") is None
