"""invalid="drop" (default): a value that cannot be sent is left out, logged and counted;
invalid="raise": a ValidationError at the call, as before."""

from __future__ import annotations

import logging

import pytest
from freezegun import freeze_time

import mixtrack
from mixtrack import _invalid
from mixtrack.testing import Collector


class User:
    """Stands in for a web framework's user object, which JSON cannot carry."""

    def __str__(self) -> str:
        return "ada"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "mixtrack"]


@pytest.fixture
def client(mixtrack_collector: Collector):
    client = mixtrack.Client("tok", api_host=mixtrack_collector.url, flush_interval=0.01)
    yield client
    client.shutdown(5)


def test_the_offending_property_is_left_out_and_the_event_still_sent(
    client: mixtrack.Client, mixtrack_collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        client.track("user-42", "Viewed", {"user": User(), "page": "/cart", "n": float("nan")})
    assert client.flush(timeout=5)
    (event,) = mixtrack_collector.events("Viewed")
    assert event["properties"]["page"] == "/cart"
    assert "user" not in event["properties"] and "n" not in event["properties"]
    assert client.stats().invalid == 2 and client.stats().sent == 1
    records = warnings_of(caplog)
    assert len(records) == 2
    first = records[0]
    assert first.mixtrack_event == "Viewed"  # type: ignore[attr-defined]
    assert first.mixtrack_property == "'user'"  # type: ignore[attr-defined]
    assert first.mixtrack_type == "User"  # type: ignore[attr-defined]
    message = first.getMessage()
    assert message.startswith("left property 'user' (type User) out of event 'Viewed'")
    assert "JSON cannot carry" in message and "invalid='raise'" in message
    # the logger's name is the one prefix a formatter adds: the message carries none
    line = logging.Formatter("%(name)s: %(message)s").format(first)
    assert line.startswith("mixtrack: left property") and line.count("mixtrack:") == 1


def test_a_warning_comes_once_per_event_and_property(
    client: mixtrack.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        for _ in range(5):
            client.track("user-42", "Viewed", {"user": User()})
            client.track("user-42", "Bought", {"user": User()})
    assert client.stats().invalid == 10
    logged = [(r.mixtrack_event, r.mixtrack_property) for r in warnings_of(caplog)]  # type: ignore[attr-defined]
    assert logged == [("Viewed", "'user'"), ("Bought", "'user'")]


def test_warnings_are_rate_limited_and_the_unlogged_ones_are_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limit = _invalid.WARNINGS_PER_MINUTE
    with freeze_time("2026-01-01 12:00:00") as clock:
        client = mixtrack.Client("tok", disabled=True)
        with caplog.at_level(logging.WARNING, logger="mixtrack"):
            for n in range(limit + 5):
                client.track("user-42", f"Event {n}", {"user": User()})
            assert len(warnings_of(caplog)) == limit
            clock.tick(61)
            client.track("user-42", "Event 0", {"user": User()})  # already logged: silent
            client.track("user-42", f"Event {limit}", {"user": User()})  # was held back
        records = warnings_of(caplog)
    assert client.stats().invalid == limit + 7
    assert len(records) == limit + 1
    assert records[-1].mixtrack_event == f"Event {limit}"  # type: ignore[attr-defined]
    assert records[-1].getMessage().endswith("(5 more invalid values were not logged.)")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("user-42", None), "event name must be a non-empty str"),
        (("null", "Viewed"), "placeholder that Mixpanel refuses"),
        ((User(), "Viewed"), "distinct_id must be a non-empty str or int"),
    ],
)
def test_an_event_with_a_bad_name_or_distinct_id_is_not_sent_and_counted(
    client: mixtrack.Client,
    mixtrack_collector: Collector,
    caplog: pytest.LogCaptureFixture,
    args: tuple,
    reason: str,
) -> None:
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        client.track(*args, {"page": "/"})
    client.track("user-42", "Good")
    assert client.flush(timeout=5)
    stats = client.stats()
    assert stats.invalid == 1 and stats.enqueued == 1 and stats.sent == 1
    assert [e["event"] for e in mixtrack_collector.events()] == ["Good"]
    (record,) = warnings_of(caplog)
    assert record.getMessage().startswith("track(")
    assert "not sent" in record.getMessage() and reason in record.getMessage()


def test_profile_and_group_updates_that_cannot_be_sent_are_counted(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    client.people_set("user-42", {"team": User()})
    client.people_increment("user-42", {"visits": "many"})
    client.group_set("", "acme", {"plan": "pro"})
    client.people_set("user-42", {"$email": "ada@example.com"})
    assert client.flush(timeout=5)
    assert client.stats().invalid == 3 and client.stats().sent == 1
    assert mixtrack_collector.profile("user-42") == {"$email": "ada@example.com"}


def test_super_properties_that_cannot_be_sent_are_left_out(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    client.register({"app": "shop", "request": User()})
    client.track("user-42", "Viewed")
    assert client.flush(timeout=5)
    (event,) = mixtrack_collector.events("Viewed")
    assert event["properties"]["app"] == "shop" and "request" not in event["properties"]
    assert client.stats().invalid == 1


def test_properties_that_are_not_a_dict_are_left_out(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    client.track("user-42", "Viewed", ["not", "a", "dict"])  # type: ignore[arg-type]
    client.track("user-42", "Counted", 5)  # type: ignore[arg-type]
    assert client.flush(timeout=5)
    assert {e["event"] for e in mixtrack_collector.events()} == {"Viewed", "Counted"}
    assert client.stats().invalid == 2


def test_properties_over_the_limit_are_left_out_last_first(
    client: mixtrack.Client, mixtrack_collector: Collector
) -> None:
    client.track("user-42", "Wide", {f"p{n:03}": n for n in range(260)})
    assert client.flush(timeout=5)
    (event,) = mixtrack_collector.events("Wide")
    names = sorted(k for k in event["properties"] if k.startswith("p"))
    # 255 in all, counting the six the SDK sets itself (token, time, distinct_id, ...)
    assert names == [f"p{n:03}" for n in range(249)]
    assert client.stats().invalid == 11


def test_raise_keeps_the_validation_error_at_the_call(mixtrack_collector: Collector) -> None:
    with mixtrack.Client("tok", api_host=mixtrack_collector.url, invalid="raise") as client:
        with pytest.raises(mixtrack.ValidationError, match="property 'user' has a value of type"):
            client.track("user-42", "Viewed", {"user": User()})
        with pytest.raises(mixtrack.ValidationError, match="event name"):
            client.track("user-42", None)  # type: ignore[arg-type]
        with pytest.raises(mixtrack.ValidationError, match="'request' has a value of type User"):
            client.register({"request": User()})
        with pytest.raises(mixtrack.ValidationError):
            client.people_set("user-42", {"team": User()})
        assert client.stats().invalid == 0 and client.stats().enqueued == 0


def test_the_environment_makes_every_client_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXTRACK_INVALID", "raise")
    client = mixtrack.Client("tok", disabled=True)
    with pytest.raises(mixtrack.ValidationError):
        client.track("user-42", "Viewed", {"user": User()})
    client.shutdown(1)


def test_the_async_client_drops_the_same_way(mixtrack_collector: Collector) -> None:
    import asyncio

    async def main() -> mixtrack.Stats:
        async with mixtrack.AsyncClient(
            "tok", api_host=mixtrack_collector.url, flush_interval=0.01
        ) as client:
            client.track("user-42", "Viewed", {"user": User(), "page": "/"})
            client.track(None, "Nobody")
            result = await client.flush(timeout=5)
            assert result and result.invalid == 2 and result.sent == 1
            return client.stats()

    stats = asyncio.run(main())
    assert stats.invalid == 2
    (event,) = mixtrack_collector.events("Viewed")
    assert event["properties"]["page"] == "/" and "user" not in event["properties"]


def test_a_bad_time_or_insert_id_property_refuses_the_event_once(
    client: mixtrack.Client, mixtrack_collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mixtrack"):
        client.track("user-42", "Timed", {"time": User(), "page": "/"})
        client.track("user-42", "Keyed", {"$insert_id": "not valid!", "page": "/"})
    assert client.flush(timeout=5)
    assert mixtrack_collector.events() == []
    assert client.stats().invalid == 2 and client.stats().enqueued == 0
    messages = [r.getMessage() for r in warnings_of(caplog)]
    assert len(messages) == 2
    assert messages[0].startswith("track('Timed') not sent: property 'time'")
    assert messages[1].startswith("track('Keyed') not sent: insert_id must be")
