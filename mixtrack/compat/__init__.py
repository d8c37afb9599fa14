"""A drop-in for mixpanel-python 5.x: change one import line, keep the rest of the code.

.. code-block:: python

    # from mixpanel import Mixpanel, Consumer, BufferedConsumer, MixpanelException
    from mixtrack.compat import Mixpanel, Consumer, BufferedConsumer, MixpanelException

>>> mp = Mixpanel("PROJECT_TOKEN")  # messages now leave through a background worker
>>> mp.track("user-42", "Signed up", {"plan": "pro"})  # doctest: +SKIP

The same constructors, methods and argument orders, the same messages on the same endpoints,
and a ``consumer=`` object is called exactly as mixpanel-python calls it. ``Consumer`` and
``BufferedConsumer`` post through ``requests`` with mixpanel-python's URLs and form fields,
so ``responses``-based tests keep passing. What differs is listed in docs/migrating.md.
"""

from __future__ import annotations

from mixtrack.compat._background import BackgroundConsumer
from mixtrack.compat._consumers import BufferedConsumer, Consumer
from mixtrack.compat._json import (
    DatetimeSerializer,
    MixpanelException,
    ServiceAccountCredentials,
    json_dumps,
)
from mixtrack.compat._mixpanel import API_VERSION, Mixpanel

__version__ = API_VERSION

__all__ = [
    "API_VERSION",
    "BackgroundConsumer",
    "BufferedConsumer",
    "Consumer",
    "DatetimeSerializer",
    "Mixpanel",
    "MixpanelException",
    "ServiceAccountCredentials",
    "__version__",
    "json_dumps",
]
