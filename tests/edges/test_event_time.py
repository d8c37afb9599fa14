"""A numeric time that /import would refuse later is refused at the call; naive datetimes
are UTC."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

import mixtrack
from mixtrack.testing import CapturedEvents, capture


@pytest.fixture
def events():
    with freeze_time("2026-03-01 12:00:00"):
        captured = capture()
        yield captured
        captured.client.shutdown(5)


NOW_S = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc).timestamp()


@pytest.mark.parametrize(
    "value",
    [NOW_S, NOW_S * 1000, int(NOW_S), 31_536_000, NOW_S + 3599],
)
def test_plausible_seconds_and_milliseconds_are_accepted(events: CapturedEvents, value) -> None:
    events.client.track("user-42", "Viewed", time=value)
    (event,) = events
    expected = value if value > 1e11 else value * 1000
    assert event["properties"]["time"] == int(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (86_400, r"time 86400 read as epoch seconds is 1970-01-02 00:00:00 UTC, before 1971"),
        (0, r"time 0 read as epoch seconds is 1970-01-01 00:00:00 UTC, before 1971"),
        (
            NOW_S * 1_000_000,
            r"read as epoch milliseconds is .* more than an hour from now, which Mixpanel "
            r"refuses \(it looks like microseconds: divide by 1000\)",
        ),
        (
            NOW_S * 1_000_000_000,
            r"\(it looks like nanoseconds: divide by 1000000\)",
        ),
        (
            # milliseconds of a 1972 date read as seconds: the year 4000-something
            70_000_000_000,
            r"read as epoch seconds is 4188-.* more than an hour from now",
        ),
        (NOW_S + 7200, r"read as epoch seconds is 2026-03-01 14:00:00 UTC, more than an hour"),
    ],
)
def test_implausible_numbers_are_refused_at_the_call(
    events: CapturedEvents, value, message: str
) -> None:
    with pytest.raises(mixtrack.ValidationError, match=message):
        events.client.track("user-42", "Viewed", time=value)
    with pytest.raises(mixtrack.ValidationError, match=message):
        events.client.track("user-42", "Viewed", {"time": value})
    assert events.client.stats().enqueued == 0


def test_the_error_says_what_to_pass_instead(events: CapturedEvents) -> None:
    with pytest.raises(mixtrack.ValidationError) as info:
        events.client.track("user-42", "Viewed", time=86_400)
    assert str(info.value).endswith(
        "pass epoch seconds (like time.time()), epoch milliseconds or a datetime"
    )


def test_with_invalid_drop_the_event_is_not_sent_and_counted() -> None:
    with freeze_time("2026-03-01 12:00:00"):
        captured = capture(invalid="drop")
        captured.client.track("user-42", "Too early", time=5)
        captured.client.track("user-42", "Fine", time=NOW_S)
        assert [e["event"] for e in captured] == ["Fine"]
        assert captured.client.stats().invalid == 1
        captured.client.shutdown(5)


def test_a_naive_datetime_is_read_as_utc(events: CapturedEvents) -> None:
    events.client.track("user-42", "Naive", time=dt.datetime(2026, 3, 1, 11, 0))
    aware = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    events.client.track("user-42", "Aware", time=aware)
    naive, aware_event = events
    assert naive["properties"]["time"] == aware_event["properties"]["time"]
    assert naive["properties"]["time"] == int((NOW_S - 3600) * 1000)
