"""The fixed catalogue: four products (see examples/SHOP.md)."""

from __future__ import annotations

from typing import Literal

import attrs

#: The slugs, as the tracking plan (mixtrack/demo/plan) lists them.
Slug = Literal["starter", "pro", "team", "enterprise"]
PlanName = Literal["free", "pro"]


@attrs.frozen
class Product:
    name: str
    slug: Slug
    price: float


PRODUCTS = (
    Product("Starter", "starter", 9.0),
    Product("Pro", "pro", 29.0),
    Product("Team", "team", 99.0),
    Product("Enterprise", "enterprise", 299.0),
)
BY_SLUG: dict[str, Product] = {product.slug: product for product in PRODUCTS}
PLANS: tuple[PlanName, ...] = ("free", "pro")


def plan_named(value: str) -> PlanName | None:
    """The plan called ``value``, or None when there is no such plan."""
    return next((plan for plan in PLANS if plan == value), None)
