"""mixtrack_flask's public names: exported, documented, and the decorator form of the loader."""

from __future__ import annotations

import inspect
from typing import Any

import mixtrack_flask
import pytest
from flask import Flask, render_template_string


def test_public_names_are_sorted_and_documented() -> None:
    assert mixtrack_flask.__all__ == sorted(mixtrack_flask.__all__)
    for name in mixtrack_flask.__all__:
        value = getattr(mixtrack_flask, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, f"mixtrack_flask.{name} has no docstring"


def test_identity_loader_as_a_decorator(mixtrack_client: Any) -> None:
    app = Flask("decorated")
    app.config.update(SECRET_KEY="s")
    mt = mixtrack_flask.Mixtrack(app, client=mixtrack_client)

    @mt.identity_loader
    def current_user_id() -> str:
        return "user-1"

    @app.get("/")
    def whoami() -> str:
        return mixtrack_flask.distinct_id()

    assert app.test_client().get("/", buffered=True).text == "user-1"


def test_expose_wants_a_variant(make_app: Any) -> None:
    app = make_app()
    app.testing = True

    @app.get("/")
    def page() -> str:
        return render_template_string('{{ expose("treatment") }}')

    with pytest.raises(TypeError, match="expose\\(\\) takes a Variant"):
        app.test_client().get("/", buffered=True)
