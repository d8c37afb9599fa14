"""The shop's pages. Events go through ``request.mixtrack`` by the typed functions generated
from the shop's tracking plan (``mixtrack/demo/shop_events.py``, from ``mixtrack/demo/plan``);
the pricing page's template marks the experiment exposure itself (see
templates/shop/pricing.html)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mixtrack.demo import shop_events
from mixtrack.demo.shop.shop.catalogue import BY_SLUG, PLANS, PRODUCTS, plan_named
from mixtrack.demo.shop.shop.models import Account
from mixtrack.plan import Visitor


@require_GET
@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    shop_events.viewed_home(Visitor(request.mixtrack), None)
    return TemplateResponse(request, "shop/home.html", {"products": PRODUCTS})


@require_GET
@ensure_csrf_cookie
def product(request: HttpRequest, slug: str) -> HttpResponse:
    item = BY_SLUG.get(slug)
    if item is None:
        raise Http404(f"no product {slug!r}")
    shop_events.viewed_product(Visitor(request.mixtrack), None, product=item.slug, price=item.price)
    return TemplateResponse(request, "shop/product.html", {"product": item})


@require_GET
@ensure_csrf_cookie
def pricing(request: HttpRequest) -> HttpResponse:
    # No tracking here: the template evaluates the experiment, marks the exposure and
    # tracks "Viewed pricing" as it renders.
    return TemplateResponse(request, "shop/pricing.html", {"products": PRODUCTS})


@require_http_methods(["GET", "POST"])
@ensure_csrf_cookie
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return TemplateResponse(request, "shop/signup.html", {"plans": PLANS})
    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    plan = plan_named(request.POST.get("plan", "free"))
    error = None
    if not username or not password:
        error = "username and password are required"
    elif plan is None:
        error = f"plan must be one of {', '.join(PLANS)}"
    else:
        try:
            with transaction.atomic():
                user = User.objects.create_user(username, password=password)
                Account.objects.create(user=user, plan=plan)
        except IntegrityError:
            error = f"{username!r} is taken"
    if error is not None or plan is None:
        context = {"plans": PLANS, "error": error}
        return TemplateResponse(request, "shop/signup.html", context, status=400)
    login(request, user)  # joins the visit before sign-up; sends $name and plan
    shop_events.signed_up(Visitor(request.mixtrack), None, plan=plan)
    return redirect("/", permanent=False)


@require_http_methods(["GET", "POST"])
@ensure_csrf_cookie
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return TemplateResponse(request, "shop/login.html")
    user = authenticate(
        request,
        username=request.POST.get("username", ""),
        password=request.POST.get("password", ""),
    )
    if user is None:
        context = {"error": "wrong username or password"}
        return TemplateResponse(request, "shop/login.html", context, status=400)
    login(request, user)
    shop_events.logged_in(Visitor(request.mixtrack), None)
    return redirect("/", permanent=False)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # the browser gets a fresh anonymous id
    return redirect("/", permanent=False)


@require_POST
def checkout(request: HttpRequest, slug: str) -> HttpResponse:
    item = BY_SLUG.get(slug)
    if item is None:
        raise Http404(f"no product {slug!r}")
    shop_events.order_completed(
        Visitor(request.mixtrack), None, product=item.slug, revenue=item.price
    )
    return TemplateResponse(request, "shop/thanks.html", {"product": item})


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
