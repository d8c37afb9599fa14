"""The example shop on FastAPI: the pages, events and pricing experiment of examples/SHOP.md.

It renders the Flask shop's templates (Starlette's Jinja ``url_for`` reads them the same way)
and keeps its users in the same kind of SQLite table. The logged-in user lives in a signed
``shop_user`` cookie; mixtrack learns it through ``user_id=``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import mixtrack_fastapi
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from examples.flask_shop.app import CATALOGUE, EXPERIMENTS, Product
from examples.flask_shop.users import PLANS, User, Users
from mixtrack.demo import shop_events
from mixtrack.demo.shop.shop.catalogue import plan_named
from mixtrack.plan import Visitor
from mixtrack.web import CookieSigner, RequestTracker

__all__ = ["create_app"]

TEMPLATES = Path(__file__).resolve().parents[1] / "flask_shop" / "templates"
USER_COOKIE = "shop_user"


class Anonymous:
    is_authenticated = False


def create_app() -> FastAPI:
    """The shop app, configured from the environment like the other shops:

    ``MIXTRACK_TOKEN`` (default ``shop-demo-token``), ``MIXTRACK_API_HOST`` (default the
    local collector), ``MIXTRACK_LEDGER`` (``memory`` or ``redis://...``), ``SHOP_DATABASE``
    (SQLite file; default a new temporary file), ``SHOP_SECRET_KEY``.
    """
    env = os.environ
    secret = env.get("SHOP_SECRET_KEY", "fastapi-shop-demo-secret")
    users = Users(env.get("SHOP_DATABASE") or _new_database())
    sessions = CookieSigner(secret, purpose="shop.user")
    templates = Jinja2Templates(directory=str(TEMPLATES))

    def current_user(request: Request) -> User | None:
        user_id = sessions.unsign(request.cookies.get(USER_COOKIE))
        return users.load(user_id) if user_id else None

    def user_id(request: Request) -> str | None:
        user = current_user(request)
        return user.get_id() if user is not None else None

    app = FastAPI(title="mixtrack fastapi shop")
    mixtrack_fastapi.Mixtrack(
        app,
        token=env.get("MIXTRACK_TOKEN", "shop-demo-token"),
        api_host=env.get("MIXTRACK_API_HOST", "http://127.0.0.1:8765"),
        ledger=env.get("MIXTRACK_LEDGER", "memory"),
        flags=EXPERIMENTS,
        secret_key=secret,
        templates=templates,
        user_id=user_id,
    )

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        user = current_user(request) or Anonymous()
        return templates.TemplateResponse(
            request, name, {"user": user, **context}, status_code=status
        )

    def product_named(slug: str) -> Product:
        product = CATALOGUE.get(slug)
        if product is None:
            raise HTTPException(404)
        return product

    def logged_in(request: Request, user: User) -> Response:
        tracker: RequestTracker = request.state.mixtrack
        tracker.login(user.get_id())  # $identify: the visit so far joins the user
        response = RedirectResponse(str(request.url_for("home")), status_code=302)
        response.set_cookie(USER_COOKIE, sessions.sign(user.get_id()), httponly=True)
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, mt: mixtrack_fastapi.CurrentTracker) -> HTMLResponse:
        # events through the module generated from the shop's plan (mixtrack/demo/plan)
        shop_events.viewed_home(Visitor(mt), None)
        return page(request, "home.html", products=CATALOGUE.values())

    @app.get("/products/{slug}", response_class=HTMLResponse)
    def product(request: Request, slug: str, mt: mixtrack_fastapi.CurrentTracker) -> HTMLResponse:
        item = product_named(slug)
        shop_events.viewed_product(Visitor(mt), None, product=item.slug, price=item.price)
        return page(request, "product.html", product=item)

    @app.get("/pricing", response_class=HTMLResponse)
    def pricing(request: Request) -> HTMLResponse:
        # The template picks the layout and marks the exposure as it renders.
        return page(request, "pricing.html", products=CATALOGUE.values())

    @app.get("/signup", response_class=HTMLResponse)
    def signup_form(request: Request) -> HTMLResponse:
        return page(request, "signup.html", plans=PLANS)

    @app.post("/signup")
    async def signup(request: Request) -> Response:
        form = await _form(request)
        username, password = form.get("username", "").strip(), form.get("password", "")
        plan = plan_named(form.get("plan", "free"))
        if not username or not password or plan is None:
            error = "username, password and a plan (free or pro) are required"
            return page(request, "signup.html", 400, plans=PLANS, error=error)
        user = users.create(username, password, plan)
        if user is None:
            return page(request, "signup.html", 400, plans=PLANS, error="username taken")
        response = logged_in(request, user)
        tracker: RequestTracker = request.state.mixtrack
        shop_events.signed_up(Visitor(tracker), None, plan=plan)
        tracker.people_set({"$name": username, "plan": plan})
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html")

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        user = users.check(form.get("username", ""), form.get("password", ""))
        if user is None:
            return page(request, "login.html", 401, error="wrong username or password")
        response = logged_in(request, user)
        shop_events.logged_in(Visitor(request.state.mixtrack), None)
        return response

    @app.post("/logout")
    def logout(request: Request, mt: mixtrack_fastapi.CurrentTracker) -> Response:
        mt.logout()  # the visitor continues under a fresh device id
        response = RedirectResponse(str(request.url_for("home")), status_code=302)
        response.delete_cookie(USER_COOKIE)
        return response

    @app.post("/checkout/{slug}", response_class=HTMLResponse)
    def checkout(request: Request, slug: str, mt: mixtrack_fastapi.CurrentTracker) -> HTMLResponse:
        item = product_named(slug)
        shop_events.order_completed(Visitor(mt), None, product=item.slug, revenue=item.price)
        return page(request, "thanks.html", product=item)

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    return app


async def _form(request: Request) -> dict[str, str]:
    # A urlencoded form, read without python-multipart (the shop has no file uploads).
    fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _new_database() -> str:
    handle, path = tempfile.mkstemp(prefix="mixtrack-fastapi-shop-", suffix=".sqlite3")
    os.close(handle)
    return path
