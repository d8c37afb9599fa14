"""The exposure-when-visible page in Flask (``tests.visible.apps.flask_app:create_app()``)."""

from __future__ import annotations

import functools

import mixtrack_flask
from flask import Flask, jsonify, make_response, render_template_string, request
from flask.typing import ResponseReturnValue

from mixtrack.web._visible_app import visible_of
from tests.visible._page import JINJA_TEMPLATE, csp, launcher, nonce, stats_json
from tests.visible.apps._shared import FLAGS, TOKEN, USER_COOKIE, mixpanel_js, template_pages


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="flask-visible-secret",
        MIXTRACK_TOKEN=TOKEN,
        MIXTRACK_FLAGS=FLAGS,
        MIXTRACK_LEDGER="memory",
        MIXTRACK_MIXPANEL_BROWSER=True,
    )
    # Logged in when the test says so: a "user" cookie (the app's own login, in a test).
    mixtrack_flask.Mixtrack(app, identity_loader=lambda: request.cookies.get(USER_COOKIE))

    @app.get("/")
    def page() -> ResponseReturnValue:
        value = nonce()
        response = make_response(render_template_string(JINJA_TEMPLATE, csp_nonce=value))
        response.headers["Content-Security-Policy"] = csp(value)
        return response

    for path, template in template_pages("jinja").items():
        app.add_url_rule(f"/{path}", path, functools.partial(render_template_string, template))

    @app.get("/launch/<action>")
    def launch(action: str) -> ResponseReturnValue:
        return launcher(action, request.args["to"])

    @app.get("/login")
    def login() -> ResponseReturnValue:
        user = request.args["user"]
        mixtrack_flask.identify(user)
        response = make_response(mixtrack_flask.distinct_id())
        response.set_cookie(USER_COOKIE, user)
        return response

    @app.get("/logout")
    def logout() -> ResponseReturnValue:
        mixtrack_flask.reset()
        response = make_response(mixtrack_flask.distinct_id())
        response.delete_cookie(USER_COOKIE)
        return response

    @app.get("/_test/mixpanel.js")
    def mixpanel() -> ResponseReturnValue:
        return mixpanel_js(), 200, {"Content-Type": "text/javascript"}

    @app.get("/_test/stats")
    def stats() -> ResponseReturnValue:
        web = app.extensions["mixtrack"].web
        return jsonify(stats_json(visible_of(web), web))

    return app
