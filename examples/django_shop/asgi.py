"""ASGI entry point under its old name: prefer ``uvicorn mixtrack.demo.shop.asgi:application``."""

from mixtrack.demo.shop.asgi import application

__all__ = ["application"]
