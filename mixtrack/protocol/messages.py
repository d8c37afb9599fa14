"""Rules of Mixpanel's messages: the identity events and the ids it refuses.

>>> from mixtrack.protocol.messages import DENIED_IDS, IDENTIFY_EVENT
>>> IDENTIFY_EVENT, "undefined" in DENIED_IDS
('$identify', True)
"""

from __future__ import annotations

__all__ = [
    "ALIAS_EVENT",
    "DENIED_IDS",
    "IDENTIFY_EVENT",
    "IDENTITY_EVENTS",
    "MERGE_EVENT",
    "RESERVED_EVENT_KEYS",
    "is_denied_id",
]

#: Links an anonymous id to a known user (on login, sign-up).
IDENTIFY_EVENT = "$identify"
#: Creates an alias of an identity (the original ID merge API).
ALIAS_EVENT = "$create_alias"
#: Merges two identities; only /import takes it, with the project's secret.
MERGE_EVENT = "$merge"
IDENTITY_EVENTS = frozenset({IDENTIFY_EVENT, ALIAS_EVENT, MERGE_EVENT})

#: Properties the caller may set to override what the library fills in.
RESERVED_EVENT_KEYS = frozenset({"time", "$insert_id", "distinct_id"})

#: Placeholder ids that Mixpanel refuses as a distinct_id (compared stripped, lower-case).
DENIED_IDS = frozenset(
    {
        "00000000-0000-0000-0000-000000000000",
        "anon",
        "anonymous",
        "nil",
        "none",
        "null",
        "n/a",
        "na",
        "undefined",
        "unknown",
        "<nil>",
        "0",
        "-1",
        "true",
        "false",
        "[]",
        "{}",
    }
)


def is_denied_id(text: str) -> bool:
    """True for a placeholder id (``"null"``, ``"undefined"``, ``"0"``...) Mixpanel refuses."""
    return text.strip().lower() in DENIED_IDS
