"""The exposure-when-visible page in Flask (``tests.visible.apps.flask_app:create_app()``)."""

from __future__ import annotations

import os

import mixtrack_flask
from flask import Flask, jsonify, make_response, render_template_string, request
from flask.typing import ResponseReturnValue

from tests.visible._page import (
    FLAGS,
    JINJA_BARE,
    JINJA_BROKEN,
    JINJA_RENDERED,
    JINJA_TEMPLATE,
    MIXPANEL_JS,
    csp,
    launcher,
    nonce,
    stats_json,
    with_mixpanel,
)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="flask-visible-secret",
        MIXTRACK_TOKEN=os.environ.get("MIXTRACK_TOKEN", "visible-token"),
        MIXTRACK_FLAGS=FLAGS,
        MIXTRACK_LEDGER="memory",
        MIXTRACK_MIXPANEL_BROWSER=True,
    )
    # Logged in when the test says so: a "user" cookie (the app's own login, in a test).
    mixtrack_flask.Mixtrack(app, identity_loader=lambda: request.cookies.get("user"))

    @app.get("/")
    def page() -> ResponseReturnValue:
        value = nonce()
        response = make_response(render_template_string(JINJA_TEMPLATE, csp_nonce=value))
        response.headers["Content-Security-Policy"] = csp(value)
        return response

    @app.get("/broken")
    def broken() -> ResponseReturnValue:
        return render_template_string(JINJA_BROKEN)

    @app.get("/rendered")
    def rendered() -> ResponseReturnValue:
        return render_template_string(JINJA_RENDERED)

    @app.get("/bare")
    def bare() -> ResponseReturnValue:
        return render_template_string(JINJA_BARE)

    @app.get("/launch/<action>")
    def launch(action: str) -> ResponseReturnValue:
        return launcher(action, request.args["to"])

    @app.get("/buy")
    def buy() -> ResponseReturnValue:
        token = app.config["MIXTRACK_TOKEN"]
        page = with_mixpanel("jinja", token, os.environ["MIXTRACK_API_HOST"])
        return render_template_string(page)

    @app.get("/_test/mixpanel.js")
    def mixpanel_js() -> ResponseReturnValue:
        return MIXPANEL_JS.read_bytes(), 200, {"Content-Type": "text/javascript"}

    @app.get("/_test/stats")
    def stats() -> ResponseReturnValue:
        from mixtrack.web._visible_app import visible_of

        return jsonify(
            stats_json(visible_of(app.extensions["mixtrack"].web), app.extensions["mixtrack"].web)
        )

    return app
