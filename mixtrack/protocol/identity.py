"""How Mixpanel joins the ids of one person into a cluster, under each of its ID-merge systems.

Mixpanel has two ID-merge systems a project can be on (the older "Legacy" one is not
modelled):

- **Simplified ID Merge** (the default for new projects since 2023): the ``$device_id`` and
  ``$user_id`` event properties decide. An anonymous event has ``distinct_id``
  ``"$device:<device_id>"``; an event carrying both merges the device into the user. Two
  ``$user_id`` values are never merged, and ``$identify``, ``$create_alias`` and ``$merge``
  merge nothing.
- **Original ID Merge** (2020): ``$identify`` (``distinct_id`` or ``$identified_id`` new,
  ``$anon_distinct_id`` or ``$anon_id`` old), ``$create_alias`` (``distinct_id`` and
  ``alias``) and ``$merge`` (``$distinct_ids``) link ids; a cluster holds at most 500 ids.

A link is a :class:`Link` (kept id, merged id, system); :func:`clusters` applies the system's
rules to links in arrival order.

>>> links_of("$identify", {"distinct_id": "user-42", "$anon_distinct_id": "anon-7f3"})
[Link(kept='user-42', merged='anon-7f3', system='original')]
>>> links_of("Paid", {"distinct_id": "user-42", "$user_id": "user-42", "$device_id": "d1"})
[Link(kept='user-42', merged='$device:d1', system='simplified')]
>>> clusters(links_of("Paid", {"$user_id": "u1", "$device_id": "d1"}), "simplified")["$device:d1"]
['u1', '$device:d1']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple

__all__ = [
    "DEVICE_PREFIX",
    "IDENTITY_EVENTS",
    "IDENTITY_MODES",
    "MAX_CLUSTER_IDS",
    "IdentityMode",
    "Link",
    "check_mode",
    "clusters",
    "device_distinct_id",
    "links_of",
]

#: The events Original ID Merge reads to link ids.
IDENTITY_EVENTS = ("$identify", "$create_alias", "$merge")
#: The ID-merge systems, the default first.
IDENTITY_MODES = ("simplified", "original")
IdentityMode = Literal["simplified", "original"]
#: Original ID Merge refuses to grow a cluster beyond this many ids.
MAX_CLUSTER_IDS = 500
#: Simplified ID Merge's ``distinct_id`` of an anonymous event: this prefix and the device id.
DEVICE_PREFIX = "$device:"


class Link(NamedTuple):
    """Two ids an event declares to be one person; ``system`` is the ID-merge system that reads it.

    >>> Link("user-42", "$device:d1", "simplified").kept
    'user-42'
    """

    kept: str
    merged: str
    system: IdentityMode


def check_mode(mode: str) -> IdentityMode:
    """``mode`` if it names an ID-merge system; a clear :class:`ValueError` otherwise.

    >>> check_mode("original")
    'original'
    """
    if mode == "simplified":
        return "simplified"
    if mode == "original":
        return "original"
    raise ValueError(
        f"identity mode must be one of {', '.join(IDENTITY_MODES)}, got {mode!r} "
        "(the ID-merge system of the Mixpanel project you mirror)"
    )


def device_distinct_id(device_id: object) -> str:
    """The ``distinct_id`` Simplified ID Merge gives an anonymous device's events.

    >>> device_distinct_id("1f0c")
    '$device:1f0c'
    """
    text = str(device_id)
    return text if text.startswith(DEVICE_PREFIX) else DEVICE_PREFIX + text


def links_of(event: str, properties: Mapping[str, Any]) -> list[Link]:
    """Every link an event declares, for either system; empty for most events."""
    found: list[Link] = []
    user, device = properties.get("$user_id"), properties.get("$device_id")
    if _present(user) and _present(device):
        found.append(Link(str(user), device_distinct_id(device), "simplified"))
    if event == "$identify":
        kept = properties.get("$identified_id", properties.get("distinct_id"))
        merged = properties.get("$anon_distinct_id", properties.get("$anon_id"))
        pairs = [(kept, merged)]
    elif event == "$create_alias":
        pairs = [(properties.get("distinct_id"), properties.get("alias"))]
    elif event == "$merge":
        ids = properties.get("$distinct_ids")
        ids = ids if isinstance(ids, list) else []
        pairs = [(ids[0], other) for other in ids[1:]] if len(ids) >= 2 else []
    else:
        pairs = []
    for kept, merged in pairs:
        if _present(kept) and _present(merged) and str(kept) != str(merged):
            found.append(Link(str(kept), str(merged), "original"))
    return found


def _present(value: object) -> bool:
    return value is not None and value != ""


def clusters(links: Iterable[tuple[str, str, str]], mode: str) -> dict[str, list[str]]:
    """Each id mapped to its whole cluster under ``mode``, in first-seen order.

    The first id of a cluster is its canonical id: the ``$user_id`` under Simplified ID Merge,
    the first-seen id under Original. Links of the other system are ignored;
    a link that breaks the system's rules (a second ``$user_id``; a cluster past 500 ids) is
    skipped, as Mixpanel skips it.
    """
    system = check_mode(mode)
    parent: dict[str, str] = {}
    order: dict[str, int] = {}
    size: dict[str, int] = {}
    users: set[str] = set()  # roots of clusters that already hold a $user_id

    def find(node: str) -> str:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def add(node: str) -> None:
        if node not in parent:
            parent[node] = node
            order[node] = len(order)
            size[node] = 1

    for kept, merged, kind in links:
        if kind != system:
            continue
        add(kept)
        add(merged)
        a, b = find(kept), find(merged)
        if system == "simplified":
            users.add(a)
            if b in users and a != b:
                continue  # the device already belongs to another user
        if a == b:
            continue
        if system == "original" and size[a] + size[b] > MAX_CLUSTER_IDS:
            continue
        if system == "simplified":
            first, second = a, b  # the user's id names the person, as in Mixpanel
        else:
            # The older root stays canonical so a cluster's name does not change under it.
            first, second = (a, b) if order[a] <= order[b] else (b, a)
        parent[second] = first
        size[first] += size[second]
        if second in users:
            users.add(first)
    members: dict[str, list[str]] = {}
    for node in sorted(parent, key=order.__getitem__):
        root = find(node)
        members.setdefault(root, [root])
        if node != root:
            members[root].append(node)
    return {node: members[find(node)] for node in parent}
