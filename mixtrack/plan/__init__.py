"""Tracking plans: one JSON Schema per event, in the shape Mixpanel's Lexicon takes.

A plan is a folder of ``event/<name>.json`` and ``profile/$user.json`` files (each a draft-07
JSON Schema with ``description``, ``properties``, ``required``, ``additionalProperties`` and
``metadata["com.mixpanel"]``), or one Lexicon bulk-upload JSON file. Every part of mixtrack
that takes a plan (``Client(plan=...)``, ``mixtrack collector --plan``, ``mixtrack audit
--plan``, ``mixtrack plan ...``) loads it with :meth:`Plan.load` and checks events with
:meth:`Plan.check`, so an off-plan event gets the same reason everywhere.

>>> from mixtrack.plan import Entry, Plan
>>> plan = Plan([Entry("event", "Viewed product", {
...     "properties": {"product": {"type": "string"}, "price": {"type": "number"}},
...     "required": ["product", "price"], "additionalProperties": False})])
>>> [v.reason for v in plan.check("Viewed product", {"product": "pro", "price": "29"})]
["wrong_type: 'price' must be number, got string"]

Needs the ``plan`` extra (``pip install 'mixtrack[plan]'``, for the ``jsonschema`` library).
"""

from __future__ import annotations

from mixtrack.errors import OffPlanError, PlanError
from mixtrack.plan._check import RULES, Rule, Violation, is_default_property
from mixtrack.plan._plan import Plan
from mixtrack.plan._schema import Entry
from mixtrack.plan._send import Tracker, Visitor, VisitorTracker

__all__ = [
    "RULES",
    "Entry",
    "OffPlanError",
    "Plan",
    "PlanError",
    "Rule",
    "Tracker",
    "Violation",
    "Visitor",
    "VisitorTracker",
    "is_default_property",
]
