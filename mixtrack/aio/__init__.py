"""The asyncio client: :class:`AsyncClient`, also importable as ``mixtrack.AsyncClient``.

>>> from mixtrack.aio import AsyncClient
>>> client = AsyncClient("PROJECT_TOKEN", api_host="http://127.0.0.1:8765")  # doctest: +SKIP
>>> client.track("user-42", "Signed up")  # doctest: +SKIP
"""

from __future__ import annotations

from mixtrack.aio._client import AsyncClient

__all__ = ["AsyncClient"]
