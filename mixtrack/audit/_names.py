"""Catch a typo in ``--experiment`` or ``--metric`` before it turns into a clean audit.

An audit of an experiment no event exposes finds nothing wrong, so a CI gate with a misspelt
name would pass; these checks name the closest names the events do have.

>>> events = [{"event": "Order completed", "properties": {}}]
>>> unknown_names(events, metric="Order complete")
["no stored event is named 'Order complete' (--metric); did you mean 'Order completed'?"]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from mixtrack.audit._stream import EXPERIMENT, EXPOSURE_EVENT, VARIANT, Event, name_key

__all__ = ["closest", "unknown_names"]


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``known`` that look like ``name``, the closest first.

    >>> closest("checkout_redesgn", ["checkout_redesign", "pricing"])
    ['checkout_redesign']
    """
    choices = sorted(set(known))
    keyed = {name_key(choice): choice for choice in choices}
    same = [keyed[k] for k in difflib.get_close_matches(name_key(name), keyed, n, 0.6)]
    plain = difflib.get_close_matches(name, choices, n, 0.6)
    return list(dict.fromkeys(same + plain))[:n]


def unknown_names(
    events: Sequence[Event],
    *,
    experiment: str | None = None,
    metric: str | None = None,
    metrics: Sequence[tuple[str, str]] = (),
    control: str | None = None,
) -> list[str]:
    """One message per asked-for name that no event has, with suggestions; empty when fine.

    ``metrics`` are ``(event, option)`` pairs, e.g. ``("Refund requested", "--guardrail")``;
    ``control`` is checked against the variants exposed (of ``experiment`` when given).
    """
    problems: list[str] = []
    if control is not None:
        variants = {
            str(e["properties"].get(VARIANT))
            for e in events
            if e.get("event") == EXPOSURE_EVENT
            and (e.get("properties") or {}).get(VARIANT)
            and (experiment is None or e["properties"].get(EXPERIMENT) == experiment)
        }
        if control not in variants:
            problems.append(
                _message(
                    f"no stored exposure is to variant {control!r} (--control)",
                    control,
                    variants,
                    "variants",
                )
            )
    if experiment is not None:
        exposed = {
            str(e["properties"].get(EXPERIMENT))
            for e in events
            if e.get("event") == EXPOSURE_EVENT and (e.get("properties") or {}).get(EXPERIMENT)
        }
        if experiment not in exposed:
            problems.append(
                _message(
                    f"no stored exposure is for experiment {experiment!r} (--experiment)",
                    experiment,
                    exposed,
                    "experiments",
                )
            )
    asked = [(metric, "--metric")] if metric is not None else []
    names = {str(e.get("event")) for e in events}
    for event, option in dict.fromkeys([*asked, *metrics]):
        if event not in names:
            problems.append(
                _message(f"no stored event is named {event!r} ({option})", event, names, "events")
            )
    return problems


def _message(head: str, name: str, known: set[str], kind: str) -> str:
    if not known:
        return f"{head}; no {kind} are stored yet"
    suggestions = closest(name, known)
    if suggestions:
        return f"{head}; did you mean {' or '.join(repr(s) for s in suggestions)}?"
    listed = ", ".join(repr(k) for k in sorted(known)[:10])
    return f"{head}; stored {kind}: {listed}{', ...' if len(known) > 10 else ''}"
