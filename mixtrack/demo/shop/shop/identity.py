"""What the shop tells Mixpanel about a user when they log in (``MIXTRACK['USER_PROPERTIES']``)."""

from __future__ import annotations

from typing import Any

from mixtrack.demo.shop.shop.models import Account


def user_properties(user: Any) -> dict[str, Any]:
    account = Account.objects.filter(user=user).first()
    return {"$name": user.get_username(), "plan": account.plan if account else "free"}
