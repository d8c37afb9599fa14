"""Feature-flag providers: the :class:`FlagProvider` protocol and the built-in :class:`StaticFlags`.

>>> from mixtrack.flags import StaticFlags
>>> flags = StaticFlags({"checkout_redesign": {"control": 50, "treatment": 50}})
>>> flags.evaluate("user-42", "checkout_redesign", {}).variant in ("control", "treatment")
True
"""

from mixtrack.flags._provider import Assignment, FlagProvider
from mixtrack.flags._static import StaticFlags

__all__ = ["Assignment", "FlagProvider", "StaticFlags"]
