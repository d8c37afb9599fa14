"""Helpers shared by the collector tests."""

from __future__ import annotations

import time
from typing import Any


def event(
    name: str = "Signed up", distinct_id: str = "user-42", **properties: object
) -> dict[str, Any]:
    """An event as the official libraries build it (token, time, $insert_id set)."""
    props: dict[str, object] = {
        "token": "tok",
        "distinct_id": distinct_id,
        "time": time.time(),
    }
    props.update(properties)
    return {"event": name, "properties": props}


#: What a program (not a web page) sends with a state-changing control request.
CONTROL = {"X-Mixtrack-Control": "1"}
