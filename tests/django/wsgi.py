"""WSGI entry point for the gunicorn tests."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
