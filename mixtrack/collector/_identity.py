"""Identity links from ``$identify``, ``$create_alias`` and ``$merge``, and the clusters they form.

>>> links_of("$identify", {"distinct_id": "user-42", "$anon_distinct_id": "anon-7f3"})
[('user-42', 'anon-7f3')]
>>> clusters([("user-42", "anon-7f3"), ("anon-7f3", "$device:1")])["$device:1"]
['user-42', 'anon-7f3', '$device:1']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

IDENTITY_EVENTS = ("$identify", "$create_alias", "$merge")


def links_of(event: str, properties: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kept id, merged id) pairs an event declares; empty for ordinary events."""
    if event == "$identify":
        pair = properties.get("distinct_id"), properties.get("$anon_distinct_id")
    elif event == "$create_alias":
        pair = properties.get("distinct_id"), properties.get("alias")
    elif event == "$merge":
        ids = properties.get("$distinct_ids")
        if not isinstance(ids, list) or len(ids) < 2:
            return []
        return [(str(ids[0]), str(other)) for other in ids[1:] if other is not None]
    else:
        return []
    kept, merged = pair
    if kept is None or merged is None or kept == merged:
        return []
    return [(str(kept), str(merged))]


def clusters(links: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Each id mapped to its whole cluster, in first-seen order (the first id is canonical)."""
    parent: dict[str, str] = {}
    order: dict[str, int] = {}

    def find(node: str) -> str:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    for kept, merged in links:
        for node in (kept, merged):
            if node not in parent:
                parent[node] = node
                order[node] = len(order)
        a, b = find(kept), find(merged)
        if a != b:
            # The older root stays canonical so a cluster's name does not change under it.
            first, second = (a, b) if order[a] <= order[b] else (b, a)
            parent[second] = first
    members: dict[str, list[str]] = {}
    for node in sorted(parent, key=order.__getitem__):
        members.setdefault(find(node), []).append(node)
    return {node: members[find(node)] for node in parent}
