"""WSGI entry point under its old name: prefer ``gunicorn mixtrack.demo.shop.wsgi``."""

from mixtrack.demo.shop.wsgi import application

__all__ = ["application"]
