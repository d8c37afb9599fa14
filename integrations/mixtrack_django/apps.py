"""The app config: build the plugin from ``settings.MIXTRACK`` and connect the signals.

>>> INSTALLED_APPS = [..., "mixtrack_django"]                     # doctest: +SKIP
>>> MIXTRACK = {"TOKEN": "PROJECT_TOKEN", "FLAGS": "myproject.flags.provider"}  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.signals import setting_changed

__all__ = ["MixtrackConfig"]


def _settings_changed(sender: Any, setting: str, **kwargs: Any) -> None:
    if setting in ("MIXTRACK", "CACHES", "SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        from mixtrack_django._runtime import reload

        reload()


class MixtrackConfig(AppConfig):
    """Builds the client and experiments at startup, so bad settings fail at once.

    ``override_settings(MIXTRACK=...)`` in tests rebuilds them.
    """

    name = "mixtrack_django"
    label = "mixtrack_django"
    verbose_name = "mixtrack"

    def ready(self) -> None:
        from mixtrack_django import checks  # noqa: F401  (registers the system checks)
        from mixtrack_django._runtime import get_mixtrack
        from mixtrack_django.signals import on_user_logged_in, on_user_logged_out

        get_mixtrack()
        user_logged_in.connect(on_user_logged_in, dispatch_uid="mixtrack_django.login")
        user_logged_out.connect(on_user_logged_out, dispatch_uid="mixtrack_django.logout")
        setting_changed.connect(_settings_changed, dispatch_uid="mixtrack_django.settings")
