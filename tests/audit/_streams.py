"""Event streams for the audit tests: a clean launch, and the same launch broken one way."""

from __future__ import annotations

from typing import Any

EXPERIMENT = "pricing_page_layout"
START = 1_700_000_000.0


class Stream:
    """Events as the collector returns them, in arrival order, with explicit times."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.clock = START

    def tick(self) -> float:
        self.clock += 1.0
        return self.clock

    def add(self, name: str, distinct_id: str, **properties: Any) -> Stream:
        props = {"token": "tok", "distinct_id": distinct_id, "time": self.tick(), **properties}
        self.events.append({"event": name, "properties": props})
        return self

    def expose(
        self, distinct_id: str, variant: str | None, experiment: str | None = EXPERIMENT
    ) -> Stream:
        props: dict[str, Any] = {"$experiment_type": "ab_test", "Flag provider": "static"}
        if experiment is not None:
            props["Experiment name"] = experiment
        if variant is not None:
            props["Variant name"] = variant
        return self.add("$experiment_started", distinct_id, **props)

    def identify(self, user: str, anon: str) -> Stream:
        """A login, as both ID-merge systems read it: ``$identify`` (Original) and, for a
        ``$device:`` id, the ``$device_id``/``$user_id`` pair (Simplified)."""
        props: dict[str, Any] = {"$anon_distinct_id": anon, "$identified_id": user}
        if anon.startswith("$device:"):
            props |= {"$device_id": anon.removeprefix("$device:"), "$user_id": user}
        return self.add("$identify", user, **props)


def clean(users: int = 200, variants: tuple[str, ...] = ("grid", "list")) -> Stream:
    """Each user exposed once, to a balanced variant, then active after it."""
    stream = Stream()
    for i in range(users):
        user = f"user-{i}"
        stream.add("Page viewed", user, page="/pricing")
        stream.expose(user, variants[i % len(variants)])
        stream.add("Clicked plan", user)
        if i % 3 == 0:
            stream.add("Order completed", user, revenue=10.0 + i % 7)
    return stream
