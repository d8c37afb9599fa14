"""Render-time exposure in a Flask app: held during the request, sent once it is delivered."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import mixtrack_flask
from flask import Flask, abort, render_template, stream_template, stream_with_context

from .conftest import exposures, visitor_id


def add_views(app: Flask) -> None:
    @app.get("/pricing")
    def pricing() -> str:
        return render_template("pricing.html")

    @app.get("/broken")
    def broken() -> str:
        return render_template("broken.html")

    @app.get("/rendered-then-500")
    def rendered_then_500() -> tuple[str, int]:
        return render_template("pricing.html"), 500

    @app.get("/rendered-then-abort")
    def rendered_then_abort() -> str:
        render_template("pricing.html")
        abort(503)

    @app.get("/rendered-then-404")
    def rendered_then_404() -> str:
        render_template("pricing.html")
        abort(404)

    @app.get("/evaluate-only")
    def evaluate_only() -> dict[str, Any]:
        layout = mixtrack_flask.variant("pricing_page_layout")
        return {"layout": layout.name, "in": layout.in_experiment}

    @app.get("/branch/<int:show>")
    def branch(show: int) -> str:
        return render_template("branches.html", show=bool(show))

    @app.get("/view-variant")
    def view_variant() -> str:
        return render_template("exposes.html", layout=mixtrack_flask.variant("pricing_page_layout"))

    @app.get("/stream")
    def stream() -> Any:
        return stream_template("pricing.html")

    @app.get("/stream-breaks")
    def stream_breaks() -> Any:
        def body() -> Iterator[str]:
            yield render_template("pricing.html")
            raise RuntimeError("lost the database half-way through the page")

        return app.response_class(stream_with_context(body()))


def test_repeat_renders_expose_once_per_visitor(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitors = [app.test_client() for _ in range(3)]
    pages = {}
    for _ in range(4):
        for number, visitor in enumerate(visitors):
            page = visitor.get("/pricing", buffered=True)
            assert page.status_code == 200
            pages.setdefault(number, set()).add(page.text)
    assert all(len(seen) == 1 for seen in pages.values())  # each visitor keeps a layout
    ids = {visitor_id(app, visitor) for visitor in visitors}
    assert len(ids) == 3
    found = exposures(mixtrack_collector)
    assert sorted(event["properties"]["distinct_id"] for event in found) == sorted(ids)
    assert {event["properties"]["Experiment name"] for event in found} == {"pricing_page_layout"}
    assert mixtrack_collector.stats()["duplicates_dropped"] == 0  # none were sent twice
    assert len(mixtrack_collector.events("Viewed pricing")) == 12  # every delivered render


def test_exposure_names_the_variant_the_page_showed(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    page = visitor.get("/pricing", buffered=True)
    [event] = exposures(mixtrack_collector, visitor_id(app, visitor))
    assert f"<p>{event['properties']['Variant name']}</p>" in page.text
    [viewed] = mixtrack_collector.events("Viewed pricing")
    assert viewed["properties"]["layout"] == event["properties"]["Variant name"]


def test_a_template_error_sends_no_exposure(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    assert visitor.get("/broken", buffered=True).status_code == 500
    assert exposures(mixtrack_collector) == []
    assert mixtrack_collector.events("Viewed pricing") == []
    # The reservation was released: the next good render exposes, once.
    assert visitor.get("/pricing", buffered=True).status_code == 200
    assert len(exposures(mixtrack_collector, visitor_id(app, visitor))) == 1


def test_an_error_status_after_rendering_sends_no_exposure(
    make_app: Any, mixtrack_collector: Any
) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    assert visitor.get("/rendered-then-500", buffered=True).status_code == 500
    assert visitor.get("/rendered-then-abort", buffered=True).status_code == 503
    assert visitor.get("/rendered-then-404", buffered=True).status_code == 404
    assert exposures(mixtrack_collector) == []
    assert mixtrack_collector.events("Viewed pricing") == []


def test_a_view_that_only_evaluates_sends_nothing(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    answer = visitor.get("/evaluate-only", buffered=True).json
    assert answer["layout"] in {"grid", "list"} and answer["in"] is True
    assert exposures(mixtrack_collector) == []


def test_only_the_branch_that_renders_exposes(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    assert visitor.get("/branch/0", buffered=True).text == "nothing to see"
    assert exposures(mixtrack_collector) == []
    visitor.get("/branch/1", buffered=True)
    assert len(exposures(mixtrack_collector)) == 1


def test_expose_marks_a_variant_from_the_view(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    page = visitor.get("/view-variant", buffered=True)
    [event] = exposures(mixtrack_collector, visitor_id(app, visitor))
    assert page.text == f"<p>{event['properties']['Variant name']}</p>"


def test_a_streamed_page_exposes_after_its_last_chunk(
    make_app: Any, mixtrack_client: Any, mixtrack_collector: Any
) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    response = visitor.get("/stream")  # not buffered: nothing of the body was produced yet
    chunks = iter(response.response)
    first = next(chunks)  # the template rendered its exposure into this chunk
    assert b"<p>" in first
    assert exposures(mixtrack_collector) == []  # held while the stream is open
    rest = b"".join(chunks)
    response.close()  # the server closes the response after the last chunk
    assert len(exposures(mixtrack_collector, visitor_id(app, visitor))) == 1
    [viewed] = mixtrack_collector.events("Viewed pricing")
    assert viewed["properties"]["layout"].encode() in first + rest


def test_a_stream_that_breaks_off_sends_nothing(make_app: Any, mixtrack_collector: Any) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    response = visitor.get("/stream-breaks")
    chunks = iter(response.response)
    next(chunks)
    with contextlib.suppress(RuntimeError):
        next(chunks)
    response.close()
    assert exposures(mixtrack_collector) == []
    assert mixtrack_collector.events("Viewed pricing") == []


def test_a_response_the_server_never_closed_settles_at_the_next_request(
    make_app: Any, mixtrack_collector: Any
) -> None:
    app = make_app()
    add_views(app)
    visitor = app.test_client()
    visitor.get("/pricing")  # not buffered and never closed
    visitor.get("/another-page", buffered=True)
    assert len(exposures(mixtrack_collector)) == 1
