"""Mixpanel's documented limits, and its advice on retrying.

>>> from mixtrack.protocol import limits
>>> limits.MAX_BATCH, limits.MAX_EVENT_BYTES
(2000, 1000000)
>>> limits.is_retryable(503), limits.is_retryable(400)
(True, False)
"""

from __future__ import annotations

__all__ = [
    "MAX_AHEAD_MS",
    "MAX_ARRAY_ITEMS",
    "MAX_BATCH",
    "MAX_BATCH_BYTES",
    "MAX_DEPTH",
    "MAX_EVENT_BYTES",
    "MAX_EVENT_NAME",
    "MAX_INSERT_ID",
    "MAX_NESTED_KEYS",
    "MAX_PROPERTIES",
    "MIN_IMPORT_MS",
    "MS_ABOVE",
    "RETRY_INITIAL",
    "RETRY_MAX",
    "SPLIT_STATUS",
    "is_retryable",
]

#: Records per request on /import, /track, /engage and /groups.
MAX_BATCH = 2000
#: /import answers 413 above 2 MiB of uncompressed JSON (the form endpoints take as much).
MAX_BATCH_BYTES = 2 * 1024 * 1024
#: Mixpanel refuses a single message of 1 MB of JSON and more.
MAX_EVENT_BYTES = 1_000_000
MAX_EVENT_NAME = 255
MAX_INSERT_ID = 36
#: Properties of one event; keys of a nested object and items of a list (fewer than).
MAX_PROPERTIES = 255
MAX_NESTED_KEYS = 255
MAX_ARRAY_ITEMS = 255
MAX_DEPTH = 3
#: 1971-01-01 in epoch milliseconds: /import refuses anything earlier.
MIN_IMPORT_MS = 31_536_000_000
#: /import refuses times more than one hour from now (milliseconds).
MAX_AHEAD_MS = 3_600_000
#: An event time above this number is read as epoch milliseconds, below as seconds.
MS_ABOVE = 1e11

#: Mixpanel's advice for 429 and 5xx: back off exponentially with jitter, from about 2 s,
#: doubling up to 60 s, and honour ``Retry-After`` when it is sent.
RETRY_INITIAL = 2.0
RETRY_MAX = 60.0
#: The request was too large: send it again in smaller pieces.
SPLIT_STATUS = 413


def is_retryable(status: int) -> bool:
    """Answers worth sending again unchanged: 408 (timeout), 429 (rate limit) and 5xx."""
    return status in (408, 429) or status >= 500
