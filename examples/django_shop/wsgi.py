"""WSGI entry point: ``gunicorn examples.django_shop.wsgi --preload -w 3``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_shop.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
