"""ASGI entry point: ``uvicorn examples.django_shop.asgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_shop.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
