"""The FastAPI app the tests run under uvicorn: pages, JSON routes, streams, login, an endpoint.

Configured from the environment: ``MIXTRACK_API_HOST`` (the test collector),
``MIXTRACK_TEST_IDENTITY`` ("simplified" or "original"), ``MIXTRACK_TEST_PROXIES``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import mixtrack_fastapi
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from mixtrack.web import EndpointResponse, RequestTracker

PRICING = {"pricing_page_layout": {"grid": 50, "list": 50}}

app = FastAPI()
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
mt = mixtrack_fastapi.Mixtrack(
    app,
    token="mixtrack-test-token",
    api_host=os.environ.get("MIXTRACK_API_HOST", "http://127.0.0.1:9"),
    secret_key="mixtrack-fastapi-tests-not-secret",
    flags=PRICING,
    templates=templates,
    identity=os.environ.get("MIXTRACK_TEST_IDENTITY", "simplified"),
    trusted_proxies=[p for p in os.environ.get("MIXTRACK_TEST_PROXIES", "").split(",") if p],
    user_id=lambda request: request.cookies.get("user"),
)


def beacon(tracker: RequestTracker, body: bytes) -> EndpointResponse:
    """An endpoint added the way other mixtrack features add theirs."""
    tracker.track_on_delivery("Beacon", {"body": body.decode()})
    return EndpointResponse(204)


mt.web.endpoints.add("POST", "/_mixtrack/beacon", beacon)


@app.get("/health", response_class=PlainTextResponse)
def health() -> str:
    return "ok"


@app.get("/pricing", response_class=HTMLResponse)
def pricing(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "pricing.html")


@app.get("/async/pricing", response_class=HTMLResponse)
async def async_pricing(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "pricing.html")


@app.get("/pricing/{status}", response_class=HTMLResponse)
def pricing_with_status(request: Request, status: int) -> HTMLResponse:
    return templates.TemplateResponse(request, "pricing.html", status_code=status)


@app.get("/broken", response_class=HTMLResponse)
def broken(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "broken.html")


@app.get("/odd", response_class=HTMLResponse)
def odd(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "odd.html")


@app.get("/api/layout")
def layout(tracker: mixtrack_fastapi.CurrentTracker) -> JSONResponse:
    variant = tracker.variant("pricing_page_layout")
    return JSONResponse({"layout": variant.name, "shown": tracker.expose(variant)})


@app.get("/stream")
async def stream(request: Request, fail: bool = False) -> StreamingResponse:
    tracker: RequestTracker = request.state.mixtrack

    async def chunks() -> AsyncIterator[str]:
        yield "<p>"
        await asyncio.sleep(0)
        yield str(tracker.experiment("pricing_page_layout"))
        if fail:
            raise RuntimeError("the stream broke off")
        yield "</p>"

    return StreamingResponse(chunks(), media_type="text/html")


@app.get("/whoami")
def whoami(request: Request) -> JSONResponse:
    tracker: RequestTracker = request.state.mixtrack
    return JSONResponse({"distinct_id": tracker.distinct_id, "device_id": tracker.device_id})


@app.post("/login/{user}")
def login(request: Request, user: str) -> JSONResponse:
    tracker: RequestTracker = request.state.mixtrack
    tracker.login(user)
    tracker.track("Logged in")
    response = JSONResponse({"distinct_id": tracker.distinct_id})
    response.set_cookie("user", user)
    return response


@app.post("/logout")
def logout(request: Request) -> JSONResponse:
    tracker: RequestTracker = request.state.mixtrack
    tracker.logout()
    response = JSONResponse({"distinct_id": tracker.distinct_id})
    response.delete_cookie("user")
    return response


@app.post("/checkout")
def checkout(tracker: mixtrack_fastapi.CurrentTracker) -> JSONResponse:
    tracker.track("Order completed", {"revenue": 29.0})
    return JSONResponse({"ok": True})
