"""Settings of the example shop. Everything a demo needs comes from the environment:

- ``MIXTRACK_TOKEN`` (default ``shop-demo-token``), ``MIXTRACK_API_HOST`` (default
  ``http://127.0.0.1:8765``, the local collector);
- ``REDIS_URL``: when set, exposures are remembered in Redis (one ledger for every process);
  otherwise in memory;
- ``SHOP_DB``: the SQLite file for users (default ``mixtrack-demo-shop.sqlite3`` in the
  temporary folder: the package may be installed where nothing can be written).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "django-shop-example-not-secret")
DEBUG = os.environ.get("SHOP_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "mixtrack.demo.shop.shop.urls"
WSGI_APPLICATION = "mixtrack.demo.shop.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "mixtrack_django",
    "mixtrack.demo.shop.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mixtrack_django.middleware.MixtrackMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "SHOP_DB", str(Path(tempfile.gettempdir()) / "mixtrack-demo-shop.sqlite3")
        ),
    }
}

MIXTRACK = {
    "TOKEN": os.environ.get("MIXTRACK_TOKEN", "shop-demo-token"),
    "API_HOST": os.environ.get("MIXTRACK_API_HOST", "http://127.0.0.1:8765"),
    "FLAGS": {"pricing_page_layout": {"grid": 50, "list": 50}},
    "LEDGER": os.environ.get("REDIS_URL") or "memory",
    "USER_PROPERTIES": "mixtrack.demo.shop.shop.identity.user_properties",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"mixtrack": {"handlers": ["console"], "level": "WARNING"}},
}
