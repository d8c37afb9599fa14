"""The fixed catalogue: four products (see examples/SHOP.md)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Product:
    name: str
    slug: str
    price: float


PRODUCTS = (
    Product("Starter", "starter", 9.0),
    Product("Pro", "pro", 29.0),
    Product("Team", "team", 99.0),
    Product("Enterprise", "enterprise", 299.0),
)
BY_SLUG = {product.slug: product for product in PRODUCTS}
PLANS = ("free", "pro")
