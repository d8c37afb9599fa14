"""Flag-provider adapters for mixtrack: evaluate with the provider, expose with mixtrack.

Each adapter is a :class:`~mixtrack.flags.FlagProvider` over one provider's own SDK. It
turns the provider's answer into an :class:`~mixtrack.flags.Assignment` and keeps the
provider from logging an exposure when a flag is merely evaluated, so that
:class:`~mixtrack.exposure.Experiments` sends ``$experiment_started`` once, when the
variant is shown. Each lives in its own module and imports its SDK only when used:

- :class:`OpenFeatureFlags` (``mixtrack_flags.openfeature``): ``mixtrack[openfeature]``
- :class:`LaunchDarklyFlags` (``mixtrack_flags.launchdarkly``): ``mixtrack[launchdarkly]``
- :class:`GrowthBookFlags` (``mixtrack_flags.growthbook``): ``mixtrack[growthbook]``
- :class:`UnleashFlags` (``mixtrack_flags.unleash``): ``mixtrack[unleash]``
- :class:`StatsigFlags` (``mixtrack_flags.statsig``): ``mixtrack[statsig]``
- :class:`StatsigLegacyFlags` (``mixtrack_flags.statsig_legacy``): the legacy ``statsig``
- :class:`FlagsmithFlags` (``mixtrack_flags.flagsmith``): ``mixtrack[flagsmith]``
- :class:`PostHogFlags` (``mixtrack_flags.posthog``): ``mixtrack[posthog]``
- :class:`MixpanelFlags` (``mixtrack_flags.mixpanel``): ``mixpanel>=5.4``

:class:`ExposureHookTracker` runs a callable after each exposure mixtrack sends, to tell a
provider that also counts exposures itself (see :meth:`StatsigFlags.tracker`).

>>> from mixtrack_flags import OpenFeatureFlags  # imports openfeature-sdk now
>>> experiments = Experiments(client, OpenFeatureFlags())  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mixtrack_flags._common import ExposureHookTracker

if TYPE_CHECKING:
    from mixtrack_flags.flagsmith import FlagsmithFlags
    from mixtrack_flags.growthbook import GrowthBookFlags
    from mixtrack_flags.launchdarkly import LaunchDarklyFlags
    from mixtrack_flags.mixpanel import MixpanelFlags
    from mixtrack_flags.openfeature import OpenFeatureFlags
    from mixtrack_flags.posthog import PostHogFlags
    from mixtrack_flags.statsig import StatsigFlags
    from mixtrack_flags.statsig_legacy import StatsigLegacyFlags
    from mixtrack_flags.unleash import UnleashFlags

_ADAPTERS = {
    "FlagsmithFlags": "flagsmith",
    "GrowthBookFlags": "growthbook",
    "LaunchDarklyFlags": "launchdarkly",
    "MixpanelFlags": "mixpanel",
    "OpenFeatureFlags": "openfeature",
    "PostHogFlags": "posthog",
    "StatsigFlags": "statsig",
    "StatsigLegacyFlags": "statsig_legacy",
    "UnleashFlags": "unleash",
}

__all__ = [
    "ExposureHookTracker",
    "FlagsmithFlags",
    "GrowthBookFlags",
    "LaunchDarklyFlags",
    "MixpanelFlags",
    "OpenFeatureFlags",
    "PostHogFlags",
    "StatsigFlags",
    "StatsigLegacyFlags",
    "UnleashFlags",
]


def __getattr__(name: str) -> Any:
    module = _ADAPTERS.get(name)
    if module is None:
        raise AttributeError(f"module 'mixtrack_flags' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mixtrack_flags.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
