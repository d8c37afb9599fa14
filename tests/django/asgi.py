"""ASGI entry point for the uvicorn tests."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
