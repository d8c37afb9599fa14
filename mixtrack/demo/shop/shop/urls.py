from django.urls import path

from mixtrack.demo.shop.shop import views

urlpatterns = [
    path("", views.home),
    path("products/<slug:slug>", views.product),
    path("pricing", views.pricing),
    path("signup", views.signup),
    path("login", views.login_view),
    path("logout", views.logout_view),
    path("checkout/<slug:slug>", views.checkout),
    path("health", views.health),
]
