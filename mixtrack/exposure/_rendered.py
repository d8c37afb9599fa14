"""The render of a variant that waits to be seen, as its own clearly named event.

A variant exposed "when visible" is not exposed when the page renders. To tell how many
rendered variants were never seen, the server records the render too, as the custom event
``Experiment rendered`` (never ``$experiment_started``: Mixpanel's experiment reports read
that one event only, so a render can never be counted as an exposure). Like the exposure
it is sent once per person and experiment, with a deterministic ``$insert_id``.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import attrs

from mixtrack.protocol.rendered import EXPOSURE_MODE, RENDER_EVENT, VISIBLE

__all__ = ["EXPOSURE_MODE", "RENDER_EVENT", "Render", "render_insert_id"]


@functools.lru_cache(maxsize=4096)
def render_insert_id(distinct_id: str, experiment: str) -> str:
    """The ``$insert_id`` of the render event of ``distinct_id`` and ``experiment``.

    >>> render_insert_id("user-42", "offer") == render_insert_id("user-42", "offer")
    True
    """
    text = f"rendered\x1f{distinct_id}\x1f{experiment}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def render_key(distinct_id: str, experiment: str) -> str:
    """Ledger key saying "the render of (distinct_id, experiment) was recorded"."""
    return "r:" + render_insert_id(distinct_id, experiment)


@attrs.frozen
class Render:
    """``distinct_id`` was sent a page showing ``variant`` of ``experiment`` at ``time``.

    >>> r = Render("user-42", "offer", "discount", time=1700000000.0)
    >>> r.event, r.properties()["Variant name"]
    ('Experiment rendered', 'discount')
    """

    distinct_id: str
    experiment: str
    variant: str
    time: float

    event = RENDER_EVENT

    @property
    def insert_id(self) -> str:
        """The deterministic ``$insert_id`` (see :func:`render_insert_id`)."""
        return render_insert_id(self.distinct_id, self.experiment)

    def properties(self) -> dict[str, Any]:
        """``Experiment name``, ``Variant name`` and ``Exposure mode``, as on the exposure."""
        return {
            "Experiment name": self.experiment,
            "Variant name": self.variant,
            EXPOSURE_MODE: VISIBLE,
        }
