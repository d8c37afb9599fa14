"""The example shop on Flask: pages, events and the pricing experiment of examples/SHOP.md."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import attrs
import mixtrack_flask
from flask import Flask, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from mixtrack.demo import shop_events
from mixtrack.demo.shop.shop.catalogue import Slug, plan_named
from mixtrack.plan import Visitor

from .users import PLANS, Users

__all__ = ["CATALOGUE", "EXPERIMENTS", "create_app"]


@attrs.frozen
class Product:
    name: str
    slug: Slug
    price: float


CATALOGUE = {
    product.slug: product
    for product in (
        Product("Starter", "starter", 9.0),
        Product("Pro", "pro", 29.0),
        Product("Team", "team", 99.0),
        Product("Enterprise", "enterprise", 299.0),
    )
}

EXPERIMENTS = {"pricing_page_layout": {"variants": {"grid": 50, "list": 50}}}


def _product(slug: str) -> Product:
    product = CATALOGUE.get(slug)
    if product is None:
        abort(404)
    return product


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The shop app. Settings come from ``config``, then the environment:

    ``MIXTRACK_TOKEN`` (default ``shop-demo-token``), ``MIXTRACK_API_HOST`` (default the
    local collector, ``http://127.0.0.1:8765``), ``MIXTRACK_LEDGER`` (``memory`` or a
    ``redis://`` URL), ``SHOP_DATABASE`` (SQLite file; default a new temporary file),
    ``SHOP_SECRET_KEY``.
    """
    env = os.environ
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=env.get("SHOP_SECRET_KEY", "flask-shop-demo-secret"),
        MIXTRACK_TOKEN=env.get("MIXTRACK_TOKEN", "shop-demo-token"),
        MIXTRACK_API_HOST=env.get("MIXTRACK_API_HOST", "http://127.0.0.1:8765"),
        MIXTRACK_LEDGER=env.get("MIXTRACK_LEDGER", "memory"),
        MIXTRACK_FLAGS=EXPERIMENTS,
        SHOP_DATABASE=env.get("SHOP_DATABASE") or _new_database(),
    )
    app.config.update(config or {})
    users = Users(app.config["SHOP_DATABASE"])
    login_manager = LoginManager(app)
    login_manager.user_loader(users.load)
    mixtrack_flask.Mixtrack(app)

    @app.get("/")
    def home() -> str:
        # events through the module generated from the shop's plan (mixtrack/demo/plan)
        shop_events.viewed_home(Visitor(mixtrack_flask), None)
        return render_template("home.html", products=CATALOGUE.values())

    @app.get("/products/<slug>")
    def product(slug: str) -> str:
        item = _product(slug)
        shop_events.viewed_product(
            Visitor(mixtrack_flask), None, product=item.slug, price=item.price
        )
        return render_template("product.html", product=item)

    @app.get("/pricing")
    def pricing() -> str:
        # The template picks the layout and marks the exposure as it renders.
        return render_template("pricing.html", products=CATALOGUE.values())

    @app.route("/signup", methods=["GET", "POST"])
    def signup() -> str | Response | tuple[str, int]:
        if request.method == "GET":
            return render_template("signup.html", plans=PLANS)
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        plan = plan_named(request.form.get("plan", "free"))
        if not username or not password or plan is None:
            error = "username, password and a plan (free or pro) are required"
            return render_template("signup.html", plans=PLANS, error=error), 400
        user = users.create(username, password, plan)
        if user is None:
            return render_template("signup.html", plans=PLANS, error="username taken"), 400
        login_user(user)  # joins the visitor's anonymous id to the new user
        shop_events.signed_up(Visitor(mixtrack_flask), None, plan=plan)
        mixtrack_flask.people_set({"$name": username, "plan": plan})
        return redirect(url_for("home"))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> str | Response | tuple[str, int]:
        if request.method == "GET":
            return render_template("login.html")
        user = users.check(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            return render_template("login.html", error="wrong username or password"), 401
        login_user(user)
        shop_events.logged_in(Visitor(mixtrack_flask), None)
        return redirect(url_for("home"))

    @app.post("/logout")
    def logout() -> Response:
        logout_user()  # the visitor continues under a fresh anonymous id
        return redirect(url_for("home"))

    @app.post("/checkout/<slug>")
    def checkout(slug: str) -> str:
        item = _product(slug)
        shop_events.order_completed(
            Visitor(mixtrack_flask), None, product=item.slug, revenue=item.price
        )
        return render_template("thanks.html", product=item)

    @app.get("/health")
    def health() -> tuple[str, int, dict[str, str]]:
        return "ok", 200, {"Content-Type": "text/plain"}

    @app.context_processor
    def shop_context() -> dict[str, Any]:
        return {"user": current_user}

    return app


def _new_database() -> str:
    handle, path = tempfile.mkstemp(prefix="mixtrack-flask-shop-", suffix=".sqlite3")
    os.close(handle)
    return path
