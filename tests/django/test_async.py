"""The async path: Django's ASGI handler (AsyncClient) with async and sync views."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import AsyncClient

EXPOSURE = "$experiment_started"
pytestmark = pytest.mark.django_db(transaction=True)


def test_async_template_view_exposes_once(plugin: Any, mixtrack_collector: Any) -> None:
    from asgiref.sync import async_to_sync

    async def visit() -> list[bytes]:
        client = AsyncClient()
        return [(await client.get("/async/pricing")).content for _ in range(10)]

    bodies = async_to_sync(visit)()
    assert len(set(bodies)) == 1
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    assert f">{exposures[0]['properties']['Variant name']}<".encode() in bodies[0]
    assert len(mixtrack_collector.events("Viewed pricing")) == 10


def test_async_json_view_and_sync_view_share_the_visitor(
    plugin: Any, mixtrack_collector: Any
) -> None:
    from asgiref.sync import async_to_sync

    async def visit() -> tuple[dict[str, Any], bytes]:
        client = AsyncClient()
        answer = (await client.get("/async/api/layout")).json()
        page = (await client.get("/pricing")).content
        return answer, page

    answer, page = async_to_sync(visit)()
    assert f">{answer['layout']}<".encode() in page
    exposures = mixtrack_collector.events(EXPOSURE)
    assert [e["properties"]["distinct_id"] for e in exposures] == [answer["distinct_id"]]


def test_async_error_status_sends_nothing(plugin: Any, mixtrack_collector: Any) -> None:
    from asgiref.sync import async_to_sync

    async def visit() -> list[int]:
        client = AsyncClient(raise_request_exception=False)
        return [
            (await client.get("/pricing/500")).status_code,
            (await client.get("/broken")).status_code,
            (await client.get("/raises")).status_code,
        ]

    assert async_to_sync(visit)() == [500, 500, 500]
    assert mixtrack_collector.events(EXPOSURE) == []


def test_async_streaming_commits_after_the_stream(plugin: Any, mixtrack_collector: Any) -> None:
    from asgiref.sync import async_to_sync

    async def visit() -> bytes:
        client = AsyncClient()
        response = await client.get("/async/stream")
        return b"".join([chunk async for chunk in response.streaming_content])

    body = async_to_sync(visit)()
    exposures = mixtrack_collector.events(EXPOSURE)
    assert len(exposures) == 1
    assert exposures[0]["properties"]["Variant name"].encode() in body
