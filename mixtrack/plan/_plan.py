"""``Plan``: a loaded tracking plan that checks events and explains itself."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mixtrack.plan._check import Violation, validator_for, violations
from mixtrack.plan._schema import Entry, read_entries, write_bulk, write_folder

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

__all__ = ["Plan"]


class Plan:
    """A tracking plan: one JSON Schema per event and one for the user profile.

    >>> plan = Plan([Entry("event", "Signed up", {
    ...     "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}},
    ...     "required": ["plan"], "additionalProperties": False})])
    >>> plan.check("Signed up", {"plan": "pro", "$browser": "Chrome"})
    []
    >>> [v.reason for v in plan.check("Signed up", {"plan": "gold"})]
    ["value_not_allowed: 'plan' must be one of 'free', 'pro', got 'gold'"]
    >>> [v.reason for v in plan.check("Signed upp", {})]
    ["unplanned_event: 'Signed upp' is not in the plan (closest: 'Signed up')"]
    """

    def __init__(self, entries: Iterable[Entry], *, source: str = "the plan") -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.source = source
        self.events: dict[str, Entry] = {
            e.name: e for e in self.entries if e.entity_type == "event"
        }
        self.profile: Entry | None = next(
            (e for e in self.entries if e.entity_type == "profile"), None
        )
        self._validators: dict[tuple[str, str], Draft7Validator] = {}
        for entry in self.entries:  # every schema checked now, not at the first event
            key = (entry.entity_type, entry.name)
            where = f"{source}: {entry.entity_type} {entry.name!r}"
            self._validators[key] = validator_for(entry.schema, where)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | Plan) -> Plan:
        """Read and check the plan at ``path``: a folder of ``event/<name>.json`` and
        ``profile/$user.json`` files, or one Lexicon bulk JSON file. A ``Plan`` is returned
        as it is. Raises :class:`~mixtrack.PlanError` on anything Lexicon would not take.

        >>> plan = Plan.load("examples/plan")  # doctest: +SKIP
        """
        if isinstance(path, Plan):
            return path
        return cls(read_entries(path), source=str(path))

    def __repr__(self) -> str:
        profile = ", a profile" if self.profile else ""
        return f"<Plan {self.source!r}: {len(self.events)} events{profile}>"

    # -- checking ---------------------------------------------------------------------

    def check(self, event: str, properties: Mapping[str, Any] | None = None) -> list[Violation]:
        """Every way the event ``event`` with ``properties`` breaks the plan; empty when it
        keeps to it. Events whose name starts with ``$`` (``$identify``, ...) are Mixpanel's
        and pass unless the plan has them (plan ``$experiment_started`` to check experiment
        and variant names)."""
        entry = self.events.get(event)
        if entry is None:
            if event.startswith("$"):
                return []
            return [Violation(event, "unplanned_event", None, self._unplanned(event))]
        found = violations(
            event, entry.schema, self._validators[("event", event)], properties or {}
        )
        if entry.metadata.get("dropped") is True:
            detail = f"{event!r} is marked dropped in the plan: Mixpanel discards it"
            found.insert(0, Violation(event, "dropped_event", None, detail))
        return found

    def check_profile(self, properties: Mapping[str, Any]) -> list[Violation]:
        """What is wrong with profile properties (a ``$set``) against ``profile/$user``;
        only the properties given are checked, as a ``$set`` sends some of them."""
        if self.profile is None:
            return []
        validator = self._validators[("profile", self.profile.name)]
        found = violations("$user", self.profile.schema, validator, properties)
        return [v for v in found if v.rule != "missing_property"]

    def _unplanned(self, event: str) -> str:
        from difflib import get_close_matches

        close = get_close_matches(event, list(self.events), n=1, cutoff=0.75)
        if not close:
            lowered = {name.lower(): name for name in self.events}
            close = [lowered[event.lower()]] if event.lower() in lowered else []
        hint = f" (closest: {close[0]!r})" if close else ""
        return f"{event!r} is not in the plan{hint}"

    # -- explaining and writing ----------------------------------------------------------

    def explain(self, event: str | None = None) -> str:
        """The plan (or one event of it) in words: each event with its description and its
        properties, their types, whether required, and their allowed values.

        >>> print(Plan([Entry("event", "Signed up", {"description": "A new account",
        ...     "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}},
        ...     "required": ["plan"]})]).explain())
        Signed up — A new account
          plan: string, required, one of 'free', 'pro'
        """
        entries = [e for e in self.entries if event is None or e.name == event]
        if event is not None and not entries:
            return self._unplanned(event)
        blocks = []
        for entry in entries:
            title = entry.name if entry.entity_type == "event" else "profile $user"
            head = f"{title} — {entry.description}" if entry.description else title
            lines = [head]
            for name, rule in entry.properties.items():
                lines.append(f"  {name}: {describe(rule, name in entry.required)}")
            if entry.schema.get("additionalProperties") is False:
                lines.append("  (no other properties)")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the plan to ``path``: a ``.json`` path gets the bulk form, anything else the
        folder form. Deterministic: writing an unchanged plan changes no byte."""
        if Path(path).suffix == ".json":
            write_bulk(self.entries, path)
        else:
            write_folder(self.entries, path)

    def as_bulk(self) -> dict[str, Any]:
        """The body of a Lexicon bulk upload: ``{"entries": [...], "truncate": False}``."""
        return {"entries": [e.as_bulk() for e in self.entries], "truncate": False}


def describe(rule: Mapping[str, Any], required: bool) -> str:
    """One property's rule in words: ``"string, required, one of 'free', 'pro'"``."""
    types = rule.get("type", "any")
    parts = [" or ".join(types) if isinstance(types, list) else str(types)]
    parts.append("required" if required else "optional")
    if "enum" in rule:
        parts.append("one of " + ", ".join(repr(v) for v in rule["enum"]))
    description = rule.get("description")
    if isinstance(description, str) and description:
        parts.append(description)
    return ", ".join(parts)
