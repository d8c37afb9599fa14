"""Numeric event times: epoch seconds or milliseconds, refused at the call when implausible.

Mixpanel reads a number above 1e11 as milliseconds and anything smaller as seconds, and
``/import`` refuses times before 1971 or more than an hour ahead. A number that lands outside
that range was almost always a unit mistake (milliseconds of a date passed as seconds,
microseconds, a duration): it is refused here, where the caller can still fix it, instead of
being refused by the server later, far from the code that made it.
"""

from __future__ import annotations

import datetime as dt
import time

from mixtrack.errors import ValidationError
from mixtrack.protocol.limits import MAX_AHEAD_MS, MIN_IMPORT_MS, MS_ABOVE

__all__ = ["epoch_ms"]


def _when(ms: float) -> str:
    try:
        moment = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return "beyond the year 9999"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def epoch_ms(number: float, shown: object, field: str = "time") -> int:
    """Epoch milliseconds of a finite, non-negative number of seconds or milliseconds, or a
    ValidationError that says what the number was read as and what to pass instead.

    >>> epoch_ms(1_700_000_000, 1_700_000_000)
    1700000000000
    >>> epoch_ms(86_400, 86_400)  # doctest: +SKIP
    ValidationError: time 86400 read as epoch seconds is 1970-01-02 00:00:00 UTC, before 1971...
    """
    unit = "milliseconds" if number > MS_ABOVE else "seconds"
    ms = number if number > MS_ABOVE else number * 1000
    latest = time.time() * 1000 + MAX_AHEAD_MS
    if MIN_IMPORT_MS <= ms <= latest:
        return int(ms)
    read = f"{field} {shown!r:.40} read as epoch {unit} is {_when(ms)}"
    if ms < MIN_IMPORT_MS:
        problem = "before 1971, which Mixpanel refuses"
    else:
        problem = "more than an hour from now, which Mixpanel refuses"
        for scale, name in ((1e3, "microseconds"), (1e6, "nanoseconds")):
            if MIN_IMPORT_MS <= number / scale <= latest:
                problem += f" (it looks like {name}: divide by {scale:.0f})"
                break
    raise ValidationError(
        f"{read}, {problem}: pass epoch seconds (like time.time()), epoch milliseconds or "
        "a datetime"
    )
