from django.urls import path

from tests.django.testapp import views

urlpatterns = [
    path("pricing", views.pricing),
    path("pricing/<int:status>", views.pricing_with_status),
    path("broken", views.broken),
    path("raises", views.raises),
    path("evaluate-only", views.evaluate_only),
    path("api/layout", views.api_layout),
    path("view-variant", views.view_variant),
    path("stream", views.stream),
    path("stream/broken", views.stream_broken),
    path("async/pricing", views.async_pricing),
    path("async/api/layout", views.async_api_layout),
    path("async/stream", views.async_stream),
    path("jinja/pricing", views.jinja_pricing),
    path("login", views.login_view),
    path("logout", views.logout_view),
    path("whoami", views.whoami),
    path("health", views.health),
]
