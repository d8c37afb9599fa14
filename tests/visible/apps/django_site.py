"""A one-file Django site: settings, URLs and views of the exposure-when-visible page.

Run it with ``DJANGO_SETTINGS_MODULE=tests.visible.apps.django_site`` under gunicorn
(``tests.visible.apps.django_site:application``). The CSRF middleware is on, as in any real
site: the exposure endpoint needs no exemption. Users log in with Django's own ``login()``
(``/login?user=<name>``, a test's shortcut: no password) into a SQLite file
(``MIXTRACK_TEST_DB``) migrated as the server starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import path

from tests.visible._page import DJANGO_TEMPLATE, csp, launcher, nonce, stats_json
from tests.visible.apps._shared import FLAGS, TOKEN, mixpanel_js, template_pages

SECRET_KEY = "django-visible-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = __name__
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "mixtrack_django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mixtrack_django.middleware.MixtrackMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MIXTRACK_TEST_DB", ":memory:"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
MIXTRACK = {
    "TOKEN": TOKEN,
    "API_HOST": os.environ.get("MIXTRACK_API_HOST"),
    "FLAGS": FLAGS,
    "LEDGER": "memory",
    "MIXPANEL_BROWSER": True,
}


def page(request: HttpRequest) -> HttpResponse:
    value = nonce()
    html = engines["django"].from_string(DJANGO_TEMPLATE).render({"csp_nonce": value}, request)
    response = HttpResponse(html)
    response["Content-Security-Policy"] = csp(value)
    return response


def template_view(template: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(engines["django"].from_string(template).render({}, request))

    return view


def stats(request: HttpRequest) -> JsonResponse:
    from mixtrack_django import get_mixtrack

    from mixtrack.web._visible_app import visible_of

    return JsonResponse(stats_json(visible_of(get_mixtrack().web), get_mixtrack().web))


def launch(request: HttpRequest, action: str) -> HttpResponse:
    return HttpResponse(launcher(action, request.GET["to"]))


def login(request: HttpRequest) -> HttpResponse:
    from django.contrib import auth
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username=request.GET["user"])
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponse(request.mixtrack.distinct_id)  # type: ignore[attr-defined]


def logout(request: HttpRequest) -> HttpResponse:
    from django.contrib import auth

    auth.logout(request)
    return HttpResponse(request.mixtrack.distinct_id)  # type: ignore[attr-defined]


def mixpanel(request: HttpRequest) -> HttpResponse:
    return HttpResponse(mixpanel_js(), content_type="text/javascript")


urlpatterns = [
    path("", page),
    *[path(name, template_view(text)) for name, text in template_pages("django").items()],
    path("launch/<str:action>", launch),
    path("login", login),
    path("logout", logout),
    path("_test/mixpanel.js", mixpanel),
    path("_test/stats", stats),
]

if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    call_command("migrate", verbosity=0)
