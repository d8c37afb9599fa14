"""Profile and group operations as Mixpanel applies them: pure functions on a property dict.

>>> apply({"plan": "free"}, "$set", {"plan": "pro"})
{'plan': 'pro'}
>>> apply(None, "$add", {"logins": 1})
{'logins': 1}
>>> apply({"plan": "pro"}, "$delete", "") is None
True
"""

from __future__ import annotations

import sys
from typing import Any


def apply(properties: dict[str, Any] | None, op: str, value: Any) -> dict[str, Any] | None:
    """The properties after ``op``; ``None`` when the document is (or stays) deleted.

    The input is not modified. Operations Mixpanel would ignore (``$append`` to a property
    that is not a list, ``$add`` to one that is not a number) leave that property unchanged.
    """
    if op == "$delete":
        return None
    doc = dict(properties or {})
    if op == "$set":
        doc.update(value)
    elif op == "$set_once":
        for name, item in value.items():
            doc.setdefault(name, item)
    elif op == "$add":
        for name, amount in value.items():
            current = doc.get(name, 0)
            if isinstance(current, (int, float)) and not isinstance(current, bool):
                total = current + amount
                # A sum beyond the range of a double would be stored as null: keep the value.
                if abs(total) <= sys.float_info.max:
                    doc[name] = total
    elif op == "$append":
        for name, item in value.items():
            current = doc.get(name)
            if current is None:
                doc[name] = [item]
            elif isinstance(current, list):
                doc[name] = [*current, item]
    elif op == "$union":
        for name, items in value.items():
            current = doc.get(name)
            merged = list(current) if isinstance(current, list) else []
            for item in items:
                if item not in merged:
                    merged.append(item)
            doc[name] = merged
    elif op == "$remove":
        for name, item in value.items():
            current = doc.get(name)
            if isinstance(current, list):
                doc[name] = [kept for kept in current if kept != item]
    elif op == "$unset":
        for name in value:
            doc.pop(name, None)
    else:
        raise ValueError(f"unknown profile operation {op!r}")
    return doc
