"""``Variant``: what application code and templates hold; reading it is never an exposure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mixtrack.flags import Assignment

__all__ = ["Variant"]

# Names that read as "the feature is off" in `{% if variant %}`.
_OFF_NAMES = frozenset({"off", "false", "disabled", "control"})


class Variant:
    """The variant of one experiment for one user, evaluated but not yet exposed.

    Get one from :meth:`Experiments.variant`. Reading ``name``, comparing, ``str()`` and
    ``bool()`` send nothing; :meth:`expose` sends the exposure, once per user and experiment.

    - ``variant == "treatment"`` compares the name (what Django and Jinja templates do);
      hashing follows the name too, so a variant can key a dict of names.
    - ``str(variant)`` is the name, or ``""`` when the user is not in the experiment.
    - ``bool(variant)`` is for on/off flags: False when the user is not in the experiment,
      when the provider's value is ``False``, or when the name is ``off``, ``false``,
      ``disabled`` or ``control``; True otherwise.

    >>> variant = experiments.variant("user-42", "checkout_redesign")  # doctest: +SKIP
    >>> variant == "treatment", str(variant), variant.expose(), variant.expose()  # doctest: +SKIP
    (True, 'treatment', True, False)
    """

    __slots__ = ("_exposer", "assignment", "distinct_id", "experiment")

    def __init__(
        self,
        experiment: str,
        distinct_id: str,
        assignment: Assignment,
        exposer: Callable[[Variant], bool],
    ) -> None:
        self.experiment = experiment
        self.distinct_id = distinct_id
        self.assignment = assignment
        self._exposer = exposer

    @property
    def name(self) -> str | None:
        """The variant name, or None when the user is not in the experiment."""
        return self.assignment.variant

    @property
    def value(self) -> Any:
        """The provider's payload for this variant (None if it has none)."""
        return self.assignment.value

    @property
    def in_experiment(self) -> bool:
        """Whether showing this variant counts as an exposure."""
        return self.assignment.in_experiment

    @property
    def reason(self) -> str:
        """Why the provider decided so (``"bucketed"``, ``"holdout"``, ``"sticky"``...)."""
        return self.assignment.reason

    @property
    def metadata(self) -> Mapping[str, Any]:
        """Provider metadata, sent with the exposure."""
        return self.assignment.metadata

    def expose(self) -> bool:
        """Record that the user is being shown this variant now.

        Returns True when this call produced the exposure, False when the user was already
        exposed to this experiment (also through an identified anonymous id) or is not in
        it. Inside :meth:`Experiments.request_scope` the event is held until the scope
        commits. Never raises for backend or delivery problems.
        """
        return self._exposer(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Variant):
            return (self.experiment, self.name) == (other.experiment, other.name)
        if other is None or isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name or ""

    def __bool__(self) -> bool:
        if self.name is None:
            return False
        if isinstance(self.value, bool):
            return self.value
        return self.name.lower() not in _OFF_NAMES

    def __repr__(self) -> str:
        return f"<Variant {self.experiment}={self.name!r} for {self.distinct_id!r}>"
