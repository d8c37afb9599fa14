"""Flag definitions importable by dotted path in the config tests."""

from mixtrack.flags import StaticFlags

PROVIDER = StaticFlags({"pricing_page_layout": {"grid": 50, "list": 50}})


def make_provider() -> StaticFlags:
    return StaticFlags({"onboarding": {"variants": ["short", "long"]}})


NOT_A_PROVIDER = 42
