"""Views of the test project: each shows one way a page can end."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt

EXPERIMENT = "pricing_page_layout"


def user_properties(user: Any) -> dict[str, Any]:
    return {"$name": user.get_username(), "staff": user.is_staff}


def is_qa(user: Any) -> bool:
    return bool(user.is_staff)


def _served(response: HttpResponse) -> HttpResponse:
    response["X-Worker-Pid"] = str(os.getpid())
    return response


def pricing(request: HttpRequest) -> HttpResponse:
    return _served(TemplateResponse(request, "testapp/pricing.html"))


def pricing_with_status(request: HttpRequest, status: int) -> HttpResponse:
    return TemplateResponse(request, "testapp/pricing.html", status=status)


def broken(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "testapp/broken.html")


def raises(request: HttpRequest) -> HttpResponse:
    request.mixtrack.variant(EXPERIMENT).expose()
    raise RuntimeError("the view failed after marking the exposure")


def evaluate_only(request: HttpRequest) -> HttpResponse:
    variant = request.mixtrack.variant(EXPERIMENT)
    return JsonResponse({"layout": variant.name})


def api_layout(request: HttpRequest) -> HttpResponse:
    variant = request.mixtrack.variant(EXPERIMENT)
    variant.expose()
    return JsonResponse({"layout": variant.name})


def view_variant(request: HttpRequest) -> HttpResponse:
    layout = request.mixtrack.variant(EXPERIMENT)
    return TemplateResponse(request, "testapp/view_variant.html", {"layout": layout})


def _chunks(request: HttpRequest, fail: bool) -> Iterator[bytes]:
    yield b"<p>start</p>"
    variant = request.mixtrack.variant(EXPERIMENT)
    variant.expose()
    yield f"<p>{variant.name}</p>".encode()
    if fail:
        raise RuntimeError("the stream broke")
    yield b"<p>end</p>"


def stream(request: HttpRequest) -> HttpResponse:
    return StreamingHttpResponse(_chunks(request, fail=False))


def stream_broken(request: HttpRequest) -> HttpResponse:
    return StreamingHttpResponse(_chunks(request, fail=True))


async def async_pricing(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0)
    return _served(TemplateResponse(request, "testapp/pricing.html"))


async def async_api_layout(request: HttpRequest) -> HttpResponse:
    variant = request.mixtrack.variant(EXPERIMENT)
    await asyncio.sleep(0)
    variant.expose()
    return JsonResponse({"layout": variant.name, "distinct_id": request.mixtrack.distinct_id})


async def _async_chunks(request: HttpRequest) -> AsyncIterator[bytes]:
    yield b"<p>start</p>"
    await asyncio.sleep(0)
    variant = request.mixtrack.variant(EXPERIMENT)
    variant.expose()
    yield f"<p>{variant.name}</p>".encode()


async def async_stream(request: HttpRequest) -> HttpResponse:
    return StreamingHttpResponse(_async_chunks(request))


def jinja_pricing(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "testapp/pricing.html", using="jinja2")


@csrf_exempt
def login_view(request: HttpRequest) -> HttpResponse:
    user = authenticate(
        request, username=request.POST["username"], password=request.POST["password"]
    )
    if user is None:
        return HttpResponse("bad credentials", status=403)
    login(request, user)
    return JsonResponse({"distinct_id": request.mixtrack.distinct_id})


@csrf_exempt
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return JsonResponse({"distinct_id": request.mixtrack.distinct_id})


def whoami(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {"distinct_id": request.mixtrack.distinct_id, "anon_id": request.mixtrack.anon_id}
    )


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
