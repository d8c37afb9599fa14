"""Who the visitor is: signed anonymous cookie, Flask-Login or a loader, joined at login."""

from __future__ import annotations

from typing import Any

import attrs
import mixtrack_flask
import pytest
from flask import Flask, render_template, request, session
from flask_login import LoginManager, login_user, logout_user

from .conftest import exposures, visitor_id


@attrs.frozen
class Member:
    id: str
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.id


def shop_with_flask_login(app: Flask) -> Flask:
    login_manager = LoginManager(app)
    login_manager.user_loader(Member)

    @app.get("/pricing")
    def pricing() -> str:
        return render_template("pricing.html")

    @app.get("/whoami")
    def whoami() -> str:
        return mixtrack_flask.distinct_id()

    @app.post("/login/<user_id>")
    def login(user_id: str) -> str:
        login_user(Member(user_id))
        mixtrack_flask.track("Logged in")
        return "welcome"

    @app.post("/logout")
    def logout() -> str:
        logout_user()
        return "bye"

    return app


def test_a_new_visitor_gets_a_signed_anonymous_cookie(make_app: Any) -> None:
    app = shop_with_flask_login(make_app())
    visitor = app.test_client()
    first = visitor.get("/whoami", buffered=True).text
    assert first.startswith("$device:")
    assert visitor_id(app, visitor) == first
    cookie = visitor.get_cookie("mixtrack_anon")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure  # plain http; see test_cookie_is_secure_over_https
    assert visitor.get("/whoami", buffered=True).text == first  # the cookie keeps it


def test_a_forged_cookie_is_not_believed(make_app: Any) -> None:
    app = shop_with_flask_login(make_app())
    visitor = app.test_client()
    visitor.set_cookie("mixtrack_anon", "someone-else")
    mine = visitor.get("/whoami", buffered=True).text
    assert mine != "$device:someone-else" and mine.startswith("$device:")


def test_requests_that_never_need_an_identity_set_no_cookie(make_app: Any) -> None:
    app = make_app()

    @app.get("/health")
    def health() -> str:
        return "ok"

    visitor = app.test_client()
    assert "Set-Cookie" not in visitor.get("/health", buffered=True).headers


def test_login_joins_identity_keeps_the_variant_and_exposes_once(
    make_app: Any, mixtrack_collector: Any
) -> None:
    app = shop_with_flask_login(make_app())
    visitor = app.test_client()
    before = visitor.get("/pricing", buffered=True).text
    anon = visitor_id(app, visitor)
    assert visitor.post("/login/user-42", buffered=True).text == "welcome"
    assert visitor.get("/whoami", buffered=True).text == "user-42"
    for _ in range(3):
        assert visitor.get("/pricing", buffered=True).text == before  # same variant

    assert sorted(mixtrack_collector.identity("user-42")) == sorted(["user-42", anon])
    [exposure] = exposures(mixtrack_collector)  # one, made while anonymous
    assert exposure["properties"]["distinct_id"] == anon
    assert len(mixtrack_collector.events("$experiment_started", "user-42", identity=True)) == 1
    [logged_in] = mixtrack_collector.events("Logged in")
    assert logged_in["properties"]["distinct_id"] == "user-42"


def test_logout_starts_a_fresh_anonymous_id(make_app: Any) -> None:
    app = shop_with_flask_login(make_app())
    visitor = app.test_client()
    first = visitor.get("/whoami", buffered=True).text
    visitor.post("/login/user-7", buffered=True)
    visitor.post("/logout", buffered=True)
    after = visitor.get("/whoami", buffered=True).text
    assert after.startswith("$device:") and after != first


def test_identify_and_an_identity_loader_without_flask_login(
    make_app: Any, mixtrack_collector: Any
) -> None:
    app = make_app(identity_loader=lambda: session.get("user_id"))

    @app.get("/pricing")
    def pricing() -> str:
        return render_template("pricing.html")

    @app.post("/login")
    def login() -> str:
        user_id = request.form["user_id"]
        session["user_id"] = user_id
        mixtrack_flask.identify(user_id)
        return mixtrack_flask.distinct_id()

    visitor = app.test_client()
    before = visitor.get("/pricing", buffered=True).text
    anon = visitor_id(app, visitor)
    assert visitor.post("/login", data={"user_id": "user-9"}, buffered=True).text == "user-9"
    assert visitor.get("/pricing", buffered=True).text == before
    assert sorted(mixtrack_collector.identity("user-9")) == sorted(["user-9", anon])
    assert len(exposures(mixtrack_collector)) == 1


def test_helpers_outside_a_request_say_what_is_missing(make_app: Any) -> None:
    app = make_app()
    with app.app_context(), pytest.raises(RuntimeError, match="needs a request"):
        mixtrack_flask.track("Viewed home")
