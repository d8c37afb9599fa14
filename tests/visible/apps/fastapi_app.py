"""The exposure-when-visible page in FastAPI (``uvicorn --factory ...fastapi_app:create_app``)."""

from __future__ import annotations

import os

import jinja2
import mixtrack_fastapi
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from mixtrack.web._visible_app import visible_of
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


def create_app() -> FastAPI:
    app = FastAPI()
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "page.html": JINJA_TEMPLATE,
                "broken.html": JINJA_BROKEN,
                "rendered.html": JINJA_RENDERED,
                "bare.html": JINJA_BARE,
                "buy.html": with_mixpanel(
                    "jinja",
                    os.environ.get("MIXTRACK_TOKEN", "visible-token"),
                    os.environ["MIXTRACK_API_HOST"],
                ),
            }
        ),
        autoescape=True,
    )
    templates = Jinja2Templates(env=env)
    mt = mixtrack_fastapi.Mixtrack(
        app,
        token=os.environ.get("MIXTRACK_TOKEN", "visible-token"),
        api_host=os.environ["MIXTRACK_API_HOST"],
        secret_key="fastapi-visible-secret",
        flags=FLAGS,
        ledger="memory",
        templates=templates,
        user_id=lambda request: request.cookies.get("user"),
        mixpanel_browser=True,
    )

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        value = nonce()
        response = templates.TemplateResponse(request, "page.html", {"csp_nonce": value})
        response.headers["Content-Security-Policy"] = csp(value)
        return response

    @app.get("/broken", response_class=HTMLResponse)
    async def broken(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "broken.html")

    @app.get("/rendered", response_class=HTMLResponse)
    async def rendered(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "rendered.html")

    @app.get("/bare", response_class=HTMLResponse)
    async def bare(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "bare.html")

    @app.get("/launch/{action}", response_class=HTMLResponse)
    async def launch(action: str, to: str) -> HTMLResponse:
        return HTMLResponse(launcher(action, to))

    @app.get("/buy", response_class=HTMLResponse)
    async def buy(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "buy.html")

    @app.get("/_test/mixpanel.js")
    async def mixpanel_js() -> Response:
        return Response(MIXPANEL_JS.read_bytes(), media_type="text/javascript")

    @app.get("/_test/stats")
    async def stats() -> JSONResponse:
        return JSONResponse(stats_json(visible_of(mt.web), mt.web))

    return app
