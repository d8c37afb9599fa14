"""The names Mixpanel's experiment reports read from an exposure event.

>>> from mixtrack.protocol.exposure import EXPOSURE_EVENT, VARIANT_NAME
>>> EXPOSURE_EVENT, VARIANT_NAME
('$experiment_started', 'Variant name')
"""

from __future__ import annotations

__all__ = [
    "EXPERIMENT_NAME",
    "EXPERIMENT_TYPE",
    "EXPOSURE_EVENT",
    "FLAG_PROVIDER",
    "VARIANT_NAME",
]

#: The event that marks a user's first exposure to an experiment.
EXPOSURE_EVENT = "$experiment_started"
EXPERIMENT_NAME = "Experiment name"
VARIANT_NAME = "Variant name"
EXPERIMENT_TYPE = "$experiment_type"
#: Not read by Mixpanel: which flag provider assigned the variant (for debugging).
FLAG_PROVIDER = "Flag provider"
