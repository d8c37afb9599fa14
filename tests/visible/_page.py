"""The page every test app serves, and what the browser tests share: one layout, one CSP.

A banner at the top (seen as soon as the page shows) and an offer far below the fold, both
exposed when visible; a strict Content-Security-Policy whose only script is the exposure
script, allowed by its nonce.
"""

from __future__ import annotations

import secrets

FLAGS = {"banner": {"on": 100}, "offer": {"control": 50, "discount": 50}}
DWELL = 0.2  # seconds: short, so the tests wait little


def nonce() -> str:
    return secrets.token_urlsafe(16)


def csp(value: str) -> str:
    """A strict policy: no inline script, no eval, beacons to this origin only."""
    return (
        f"script-src 'nonce-{value}'; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def page(banner: tuple[str, str], offer: tuple[str, str], script: str) -> str:
    """The HTML: each of ``banner``/``offer`` is (variant name, exposure attributes)."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Offer</title></head>
<body style="margin:0">
<div id="banner" data-variant="{banner[0]}" {banner[1]} style="height:200px">banner</div>
<div style="height:3000px">the rest of the page</div>
<div id="offer" data-variant="{offer[0]}" {offer[1]} style="height:300px">offer</div>
<div style="height:3000px"></div>
{script}
</body></html>
"""
