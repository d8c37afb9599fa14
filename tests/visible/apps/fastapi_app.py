"""The exposure-when-visible page in FastAPI (``uvicorn --factory ...fastapi_app:create_app``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import jinja2
import mixtrack_fastapi
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates

from mixtrack.web._visible_app import visible_of
from tests.visible._page import JINJA_TEMPLATE, csp, launcher, nonce, stats_json
from tests.visible.apps._shared import (
    FLAGS,
    TOKEN,
    USER_COOKIE,
    api_host,
    mixpanel_js,
    template_pages,
)


def create_app() -> FastAPI:
    app = FastAPI()
    pages = {f"{path}.html": text for path, text in template_pages("jinja").items()}
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"page.html": JINJA_TEMPLATE, **pages}), autoescape=True
    )
    templates = Jinja2Templates(env=env)
    mt = mixtrack_fastapi.Mixtrack(
        app,
        token=TOKEN,
        api_host=api_host(),
        secret_key="fastapi-visible-secret",
        flags=FLAGS,
        ledger="memory",
        templates=templates,
        user_id=lambda request: request.cookies.get(USER_COOKIE),
        mixpanel_browser=True,
    )

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        value = nonce()
        response = templates.TemplateResponse(request, "page.html", {"csp_nonce": value})
        response.headers["Content-Security-Policy"] = csp(value)
        return response

    def serve(name: str) -> Callable[[Request], Awaitable[HTMLResponse]]:
        async def render(request: Request) -> HTMLResponse:
            return templates.TemplateResponse(request, name)

        return render

    for name in pages:
        app.add_api_route(
            "/" + name.removesuffix(".html"), serve(name), response_class=HTMLResponse
        )

    @app.get("/launch/{action}", response_class=HTMLResponse)
    async def launch(action: str, to: str) -> HTMLResponse:
        return HTMLResponse(launcher(action, to))

    @app.get("/login")
    async def login(request: Request, user: str) -> PlainTextResponse:
        tracker = request.state.mixtrack
        tracker.login(user)
        response = PlainTextResponse(tracker.distinct_id)
        response.set_cookie(USER_COOKIE, user)
        return response

    @app.get("/logout")
    async def logout(request: Request) -> PlainTextResponse:
        tracker = request.state.mixtrack
        tracker.logout()
        response = PlainTextResponse(tracker.distinct_id)
        response.delete_cookie(USER_COOKIE)
        return response

    @app.get("/_test/mixpanel.js")
    async def mixpanel() -> Response:
        return Response(mixpanel_js(), media_type="text/javascript")

    @app.get("/_test/stats")
    async def stats() -> JSONResponse:
        return JSONResponse(stats_json(visible_of(mt.web), mt.web))

    return app
