"""A one-file Django site: settings, URLs and views of the exposure-when-visible page.

Run it with ``DJANGO_SETTINGS_MODULE=tests.visible.apps.django_site`` under gunicorn
(``tests.visible.apps.django_site:application``). The CSRF middleware is on, as in any real
site: the exposure endpoint needs no exemption.
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import path

from tests.visible._page import (
    DJANGO_BARE,
    DJANGO_BROKEN,
    DJANGO_RENDERED,
    DJANGO_TEMPLATE,
    FLAGS,
    MIXPANEL_JS,
    csp,
    launcher,
    nonce,
    stats_json,
    with_mixpanel,
)

SECRET_KEY = "django-visible-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = __name__
USE_TZ = True
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
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
MIXTRACK = {
    "TOKEN": os.environ.get("MIXTRACK_TOKEN", "visible-token"),
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


def broken(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(DJANGO_BROKEN).render({}, request))


def stats(request: HttpRequest) -> JsonResponse:
    from mixtrack_django import get_mixtrack

    from mixtrack.web._visible_app import visible_of

    return JsonResponse(stats_json(visible_of(get_mixtrack().web), get_mixtrack().web))


def rendered(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(DJANGO_RENDERED).render({}, request))


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(DJANGO_BARE).render({}, request))


def launch(request: HttpRequest, action: str) -> HttpResponse:
    return HttpResponse(launcher(action, request.GET["to"]))


def buy(request: HttpRequest) -> HttpResponse:
    page = with_mixpanel("django", MIXTRACK["TOKEN"], os.environ["MIXTRACK_API_HOST"])
    return HttpResponse(engines["django"].from_string(page).render({}, request))


def mixpanel_js(request: HttpRequest) -> HttpResponse:
    return HttpResponse(MIXPANEL_JS.read_bytes(), content_type="text/javascript")


urlpatterns = [
    path("buy", buy),
    path("_test/mixpanel.js", mixpanel_js),
    path("", page),
    path("broken", broken),
    path("rendered", rendered),
    path("bare", bare),
    path("launch/<str:action>", launch),
    path("_test/stats", stats),
]

if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
