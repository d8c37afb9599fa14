"""Experiment exposure, done right: sent when the variant is shown, once per person.

>>> from mixtrack.exposure import Experiments, MemoryLedger
>>> from mixtrack.flags import StaticFlags
>>> experiments = Experiments(client, StaticFlags({"checkout_redesign": {
...     "control": 50, "treatment": 50}}), ledger=MemoryLedger())  # doctest: +SKIP
>>> variant = experiments.variant("user-42", "checkout_redesign")  # doctest: +SKIP
>>> variant.expose()  # $experiment_started, once  # doctest: +SKIP
True
"""

from mixtrack.exposure._experiments import Experiments, ExperimentStats
from mixtrack.exposure._exposure import EXPOSURE_EVENT, Exposure, Tracker, exposure_insert_id
from mixtrack.exposure._ledger import Ledger, LedgerFallback, MemoryLedger
from mixtrack.exposure._redis import RedisLedger
from mixtrack.exposure._rendered import RENDER_EVENT, Render, render_insert_id
from mixtrack.exposure._scope import RequestScope
from mixtrack.exposure._token import ExposureToken, ExposureTokens, TokenError, TokenProblem
from mixtrack.exposure._variant import Variant

__all__ = [
    "EXPOSURE_EVENT",
    "RENDER_EVENT",
    "ExperimentStats",
    "Experiments",
    "Exposure",
    "ExposureToken",
    "ExposureTokens",
    "Ledger",
    "LedgerFallback",
    "MemoryLedger",
    "RedisLedger",
    "Render",
    "RequestScope",
    "TokenError",
    "TokenProblem",
    "Tracker",
    "Variant",
    "exposure_insert_id",
    "render_insert_id",
]
