"""System checks (``manage.py check``): the middleware is installed, after authentication,
and the experiments that templates name are known to the flag provider."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

__all__ = ["check_middleware", "check_template_experiments"]

MIDDLEWARE = "mixtrack_django.middleware.MixtrackMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"


@checks.register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W001: middleware missing; W002: placed before AuthenticationMiddleware."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        return [
            checks.Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE",
                hint="Add it after AuthenticationMiddleware: without it there is no "
                "request.mixtrack and templates cannot mark exposures.",
                id="mixtrack_django.W001",
            )
        ]
    if AUTHENTICATION in middleware and middleware.index(AUTHENTICATION) > middleware.index(
        MIDDLEWARE
    ):
        return [
            checks.Warning(
                f"{MIDDLEWARE} comes before {AUTHENTICATION}",
                hint="Move it after AuthenticationMiddleware so logged-in users are "
                "tracked under their own id.",
                id="mixtrack_django.W002",
            )
        ]
    return []


# {% experiment "name" ... %} in Django templates, experiment("name") in Jinja templates.
_EXPERIMENT_TAG = re.compile(r"""\{%-?\s*experiment\s+(["'])([^"']+)\1""")
_EXPERIMENT_CALL = re.compile(r"""\bexperiment\(\s*(["'])([^"']+)\1""")
_TEMPLATE_SUFFIXES = (".html", ".htm", ".txt", ".xml", ".jinja", ".jinja2", ".j2")


def _template_files() -> list[Path]:
    from django.template import engines

    files: list[Path] = []
    for engine in engines.all():
        for directory in getattr(engine, "template_dirs", ()):
            root = Path(directory)
            if root.is_dir():
                files.extend(
                    path
                    for path in sorted(root.rglob("*"))
                    if path.suffix in _TEMPLATE_SUFFIXES and path.is_file()
                )
    return files


@checks.register(checks.Tags.templates)
def check_template_experiments(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W003: a template names an experiment the flag provider does not list.

    Only for providers that list their experiments (``StaticFlags`` and others with an
    ``experiments`` collection); names built at render time cannot be checked.
    """
    from mixtrack_django._runtime import get_mixtrack

    web = get_mixtrack().web
    if web.knows_experiment("") is None:
        return []
    found: list[checks.CheckMessage] = []
    for path in _template_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        names = {m.group(2) for m in _EXPERIMENT_TAG.finditer(text)}
        names |= {m.group(2) for m in _EXPERIMENT_CALL.finditer(text)}
        for name in sorted(names):
            if web.knows_experiment(name) is False:
                found.append(
                    checks.Warning(
                        f"template {path} names experiment {name!r}, which the flag "
                        f"provider {getattr(web.flags, 'name', web.flags)!r} does not list",
                        hint="Every visitor gets the fallback and no exposure is sent: fix "
                        "the name or add the experiment to MIXTRACK['FLAGS'].",
                        id="mixtrack_django.W003",
                    )
                )
    return found


@checks.register(checks.Tags.templates)
def check_background_loads(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W004: templates render experiments, and none loads the exposure script.

    A page loaded in the background (prefetch, prerender) is exposed only when the script
    reports that it is shown; without ``{% mixtrack_script %}`` it is never exposed.
    """
    with_experiments: list[Path] = []
    scripted = False
    for path in _template_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        scripted = scripted or "mixtrack_script" in text
        if _EXPERIMENT_TAG.search(text) or _EXPERIMENT_CALL.search(text):
            with_experiments.append(path)
    if scripted or not with_experiments:
        return []
    return [
        checks.Warning(
            f"{len(with_experiments)} template(s) render experiments (first: "
            f"{with_experiments[0]}) and no template loads {{% mixtrack_script %}}",
            hint="Pages prefetched or prerendered by the browser are exposed only when the "
            "exposure script reports them shown: add {% mixtrack_script %} to the base "
            "template (docs: Traffic that is not a person).",
            id="mixtrack_django.W004",
        )
    ]
