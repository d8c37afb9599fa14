"""ASGI entry point: ``uvicorn mixtrack.demo.shop.asgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mixtrack.demo.shop.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
