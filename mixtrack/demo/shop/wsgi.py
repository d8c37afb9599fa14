"""WSGI entry point: ``gunicorn mixtrack.demo.shop.wsgi --preload -w 3``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mixtrack.demo.shop.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
