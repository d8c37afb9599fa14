"""Django settings for the mixtrack_django tests (the test process and its server subprocesses).

Servers started by the tests read the collector URL and the cache from the environment:
``MIXTRACK_API_HOST``, ``MIXTRACK_TEST_REDIS_URL`` (a shared Redis cache when set).
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = "mixtrack-django-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "tests.django.testapp.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "mixtrack_django",
    "tests.django.testapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mixtrack_django.middleware.MixtrackMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "mixtrack_django.jinja2.environment"},
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MIXTRACK_TEST_DB", ":memory:"),
    }
}

_redis = os.environ.get("MIXTRACK_TEST_REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}
        if _redis
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Servers run without a database for sessions: signed-cookie sessions need none.
if os.environ.get("MIXTRACK_TEST_SERVER"):
    SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

PRICING_EXPERIMENTS = {"pricing_page_layout": {"grid": 50, "list": 50}}

MIXTRACK = {
    "TOKEN": "mixtrack-test-token",
    "API_HOST": os.environ.get("MIXTRACK_API_HOST", "http://127.0.0.1:9"),
    "FLAGS": PRICING_EXPERIMENTS,
    "LEDGER": "cache",
    "USER_PROPERTIES": "tests.django.testapp.views.user_properties",
    "QA_USERS": "tests.django.testapp.views.is_qa",
}

LOGGING_CONFIG = None
STATIC_URL = "/static/"
# Fast password hashing: the tests log users in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
