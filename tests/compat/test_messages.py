"""Every call of mixtrack.compat.Mixpanel sends what mixpanel-python sends, to the same place,
through the same consumer call: compared key by key with the real ``mixpanel`` package."""

from __future__ import annotations

import datetime
import inspect
import json
from collections.abc import Callable
from typing import Any

import mixpanel
import pytest

from mixtrack import compat

NOW = 1_700_000_000.25
INSERT_ID = "0123456789abcdef0123456789abcdef"


class Recording:
    """A user-supplied consumer: keeps each call exactly as it was made."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def send(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


def frozen(cls: type[Any], consumer: Recording) -> Any:
    mp = cls("PROJECT_TOKEN", consumer=consumer)
    mp._now = lambda: NOW  # the hooks tests override in mixpanel-python
    mp._make_insert_id = lambda: INSERT_ID
    return mp


CALLS: dict[str, Callable[[Any], None]] = {
    "track": lambda mp: mp.track("user-42", "Signed up", {"plan": "pro", "n": 3}),
    "track meta": lambda mp: mp.track("user-42", "Signed up", None, {"$ip": "1.2.3.4"}),
    "track time override": lambda mp: mp.track("u", "Old", {"time": 1600000000, "$insert_id": "x"}),
    "track datetime": lambda mp: mp.track("u", "At", {"when": datetime.datetime(2024, 5, 1, 9)}),
    "import_data": lambda mp: mp.import_data("KEY", "user-42", "Bought", 1600000000, {"sku": 1}),
    "import_data secret": lambda mp: mp.import_data(
        None, "user-42", "Bought", 1600000000, None, {"$x": 1}, api_secret="SECRET"
    ),
    "merge": lambda mp: mp.merge(None, "user-42", "anon-7"),
    "merge secret": lambda mp: mp.merge("KEY", "a", "b", {"m": 1}, "SECRET"),
    "people_set": lambda mp: mp.people_set("user-42", {"$email": "a@b.c"}),
    "people_set meta": lambda mp: mp.people_set("user-42", {"a": 1}, {"$ignore_time": True}),
    "people_set_once": lambda mp: mp.people_set_once("user-42", {"first": "x"}),
    "people_increment": lambda mp: mp.people_increment("user-42", {"logins": 1}),
    "people_append": lambda mp: mp.people_append("user-42", {"Items": "Arm"}),
    "people_union": lambda mp: mp.people_union("user-42", {"Items": ["Arm", "Leg"]}),
    "people_unset": lambda mp: mp.people_unset("user-42", ["old", "older"]),
    "people_remove": lambda mp: mp.people_remove("user-42", {"Items": "Arm"}),
    "people_delete": lambda mp: mp.people_delete("user-42"),
    "people_delete meta": lambda mp: mp.people_delete("user-42", {"$ignore_alias": True}),
    "people_track_charge": lambda mp: mp.people_track_charge("user-42", 9.5, {"sku": "A"}),
    "people_track_charge bare": lambda mp: mp.people_track_charge("user-42", 3),
    "people_clear_charges": lambda mp: mp.people_clear_charges("user-42"),
    "people_update": lambda mp: mp.people_update({"$distinct_id": "u", "$set": {"a": 1}}),
    "group_set": lambda mp: mp.group_set("company", "acme", {"plan": "pro"}),
    "group_set_once": lambda mp: mp.group_set_once("company", "acme", {"since": 2020}),
    "group_union": lambda mp: mp.group_union("company", "acme", {"Items": ["a"]}),
    "group_unset": lambda mp: mp.group_unset("company", "acme", ["plan"]),
    "group_remove": lambda mp: mp.group_remove("company", "acme", {"Items": "a"}),
    "group_delete": lambda mp: mp.group_delete("company", "acme", {"m": 1}),
    "group_update": lambda mp: mp.group_update({"$group_key": "k", "$group_id": 1, "$set": {}}),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_consumer_call_and_same_message_as_mixpanel_python(name: str) -> None:
    theirs, ours = Recording(), Recording()
    CALLS[name](frozen(mixpanel.Mixpanel, theirs))
    CALLS[name](frozen(compat.Mixpanel, ours))
    assert len(ours.calls) == len(theirs.calls) == 1
    (their_args, their_kwargs), (our_args, our_kwargs) = theirs.calls[0], ours.calls[0]
    assert our_kwargs == their_kwargs
    assert len(our_args) == len(their_args)
    assert our_args[0] == their_args[0]  # the endpoint
    assert our_args[2:] == their_args[2:]  # (api_key, api_secret) for imports
    their_message, our_message = json.loads(their_args[1]), json.loads(our_args[1])
    assert our_message.keys() == their_message.keys()
    for key in their_message:
        assert our_message[key] == their_message[key], key
    assert our_args[1] == their_args[1]  # even the JSON text: same keys in the same order


def test_charge_leaves_the_callers_properties_alone() -> None:
    properties = {"sku": "A"}
    frozen(compat.Mixpanel, Recording()).people_track_charge("user-42", 9.5, properties)
    assert properties == {"sku": "A"}


def test_custom_serializer_is_used() -> None:
    class Sets(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            return sorted(o) if isinstance(o, set) else super().default(o)

    consumer = Recording()
    mp = compat.Mixpanel("PROJECT_TOKEN", consumer=consumer, serializer=Sets)
    mp.track("user-42", "Tagged", {"tags": {"b", "a"}})
    assert json.loads(consumer.calls[0][0][1])["properties"]["tags"] == ["a", "b"]


PUBLIC = ("Mixpanel", "Consumer", "BufferedConsumer")


@pytest.mark.parametrize("name", PUBLIC)
def test_signatures_match_mixpanel_python(name: str) -> None:
    theirs, ours = getattr(mixpanel, name), getattr(compat, name)
    methods = [m for m in vars(theirs) if not m.startswith("__") or m == "__init__"]
    for method in methods:
        if method.startswith("_") and method not in ("__init__", "_now", "_make_insert_id"):
            continue
        assert hasattr(ours, method), f"{name}.{method} is missing"
        if callable(getattr(theirs, method)):
            their_params = list(inspect.signature(getattr(theirs, method)).parameters)
            our_params = list(inspect.signature(getattr(ours, method)).parameters)
            assert our_params == their_params, f"{name}.{method}"


def test_other_public_names_exist() -> None:
    for name in (
        "MixpanelException",
        "DatetimeSerializer",
        "json_dumps",
        "ServiceAccountCredentials",
    ):
        assert hasattr(compat, name)
    when = {"at": datetime.datetime(2024, 5, 1, 12, 30, 15, 999)}
    assert compat.json_dumps(when, cls=compat.DatetimeSerializer) == mixpanel.json_dumps(
        when, cls=mixpanel.DatetimeSerializer
    )


def test_flags_providers_need_their_config() -> None:
    mp = compat.Mixpanel("PROJECT_TOKEN", consumer=Recording())
    with pytest.raises(compat.MixpanelException, match="local_flags_config"):
        mp.local_flags  # noqa: B018
    with pytest.raises(compat.MixpanelException, match="remote_flags_config"):
        mp.remote_flags  # noqa: B018
