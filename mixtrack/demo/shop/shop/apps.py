from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "mixtrack.demo.shop.shop"
    label = "shop"
