"""The names of "rendered to be exposed when seen": the event and the property that mark it.

A variant exposed when visible is recorded at render as the custom event
``Experiment rendered`` (never ``$experiment_started``, which Mixpanel's experiment reports
read as the exposure). Its exposure, when the browser reports the variant seen, carries
``Exposure mode: "visible"``. The SDK sends these names; the audit and the live view read
them.

>>> RENDER_EVENT, EXPOSURE_MODE
('Experiment rendered', 'Exposure mode')
"""

from __future__ import annotations

__all__ = ["EXPOSURE_MODE", "RENDER_EVENT", "VISIBLE"]

RENDER_EVENT = "Experiment rendered"
"""The event recording that a variant waiting to be seen was put on a page."""

EXPOSURE_MODE = "Exposure mode"
"""Property on the render event and on the exposure it leads to."""

VISIBLE = "visible"
"""The value of :data:`EXPOSURE_MODE` for exposure when visible."""
