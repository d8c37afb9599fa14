"""What instrument() puts on the wire: the message header, read back from Celery's in-memory
broker transport (kombu's real ``memory://`` transport, no worker needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mixtrack_celery
import pytest
from celery import Celery

import mixtrack


@pytest.fixture
def app() -> Iterator[Celery]:
    app = Celery("headers", broker="memory://", backend="cache+memory://")
    app.conf.broker_connection_retry_on_startup = True

    @app.task(name="headers.noop")
    def noop() -> None:
        return None

    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def instrumented(app: Celery) -> Iterator[mixtrack_celery.Instrumentation]:
    client = mixtrack.Client("tok", api_host="http://127.0.0.1:1")
    instrumentation = mixtrack_celery.instrument(app, client)
    try:
        yield instrumentation
    finally:
        instrumentation.uninstrument()
        client.shutdown(timeout=0.1)


def published_headers(app: Celery) -> dict[str, Any]:
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        try:
            message = queue.get(timeout=5)
            message.ack()
            return dict(message.headers)
        finally:
            queue.close()


def test_the_context_rides_in_the_message_header(app: Celery, instrumented: Any) -> None:
    with mixtrack.context(distinct_id="user-42", plan="pro"), mixtrack.context(step=2):
        app.send_task("headers.noop")
    headers = published_headers(app)
    assert headers[mixtrack_celery.HEADER] == {
        "distinct_id": "user-42",
        "properties": {"plan": "pro", "step": 2},
    }
    assert headers["task"] == "headers.noop"  # Celery's own headers are untouched


def test_no_context_no_header_and_a_header_set_on_purpose_wins(
    app: Celery, instrumented: Any
) -> None:
    app.send_task("headers.noop")
    assert mixtrack_celery.HEADER not in published_headers(app)

    chosen = {"distinct_id": "user-7", "properties": {}}
    with mixtrack.context(distinct_id="user-42"):
        app.send_task("headers.noop", headers={mixtrack_celery.HEADER: chosen})
    assert published_headers(app)[mixtrack_celery.HEADER] == chosen


def test_uninstrument_stops_carrying(app: Celery, instrumented: Any) -> None:
    instrumented.uninstrument()
    with mixtrack.context(distinct_id="user-42"):
        app.send_task("headers.noop")
    assert mixtrack_celery.HEADER not in published_headers(app)


def test_instrument_refuses_what_is_not_a_client(app: Celery) -> None:
    with pytest.raises(mixtrack.ConfigError, match=r"needs a mixtrack\.Client .* got str"):
        mixtrack_celery.instrument(app, "PROJECT_TOKEN")  # type: ignore[arg-type]


def test_the_task_runs_in_the_carried_context_once_and_leaves_none_behind(app: Celery) -> None:
    # Two clients instrumented (a Client and an AsyncClient, say): the context is entered
    # once per task, and nothing of it stays in force after the task.
    from mixtrack._context import current_context

    seen: list[tuple[str | None, dict[str, Any]]] = []

    @app.task(name="headers.look")
    def look() -> None:
        ctx = current_context()
        seen.append((ctx.distinct_id, dict(ctx.properties)))

    clients = [mixtrack.Client("tok", api_host="http://127.0.0.1:1") for _ in range(2)]
    instrumentations = [mixtrack_celery.instrument(app, client) for client in clients]
    try:
        carried = {"distinct_id": "user-42", "properties": {"plan": "pro"}}
        look.apply(headers={mixtrack_celery.HEADER: carried})
        look.apply()
    finally:
        for instrumentation in instrumentations:
            instrumentation.uninstrument()
            instrumentation.uninstrument()  # a second call does nothing
        for client in clients:
            client.shutdown(timeout=0.1)
    assert seen == [("user-42", {"plan": "pro"}), (None, {})]
    assert current_context().distinct_id is None
