"""The page every test app serves, and what the browser tests share: one layout, one CSP.

A banner at the top (seen as soon as the page shows) and an offer far below the fold, both
exposed when visible; a strict Content-Security-Policy whose only script is the exposure
script, allowed by its nonce.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

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


_SKELETON = """<!doctype html>
<html><head><meta charset="utf-8"><title>Offer</title></head>
<body style="margin:0">
<div id="banner" data-variant="{banner}" {banner_attrs} style="height:200px">banner</div>
<div style="height:3000px">the rest of the page</div>
<div id="offer" data-variant="{offer}" {offer_attrs} style="height:300px">offer</div>
<div style="height:3000px"></div>
{script}
</body></html>
"""

#: The page as a Django template: what a Django user writes.
DJANGO_TEMPLATE = (
    '{% load mixtrack %}{% experiment "banner" as banner expose="visible" %}'
    '{% experiment "offer" as offer expose="visible" %}'
    + _SKELETON.format(
        banner="{{ banner }}",
        banner_attrs="{% exposure_attrs banner %}",
        offer="{{ offer }}",
        offer_attrs="{% exposure_attrs offer %}",
        script=f"{{% mixtrack_script nonce=csp_nonce dwell={DWELL} %}}",
    )
)

#: The page as a Jinja template (Flask, FastAPI).
JINJA_TEMPLATE = (
    '{% set banner = experiment("banner", expose="visible") %}'
    '{% set offer = experiment("offer", expose="visible") %}'
    + _SKELETON.format(
        banner="{{ banner }}",
        banner_attrs="{{ exposure_attrs(banner) }}",
        offer="{{ offer }}",
        offer_attrs="{{ exposure_attrs(offer) }}",
        script=f"{{{{ mixtrack_script(nonce=csp_nonce, dwell={DWELL}) }}}}",
    )
)


def stats_json(visible: Any, web: Any = None) -> dict[str, Any]:
    """What ``/_test/stats`` answers: the app's beacon counters, its traffic counters and
    the serving process's peak memory (kB)."""
    import resource

    stats = visible.stats()
    traffic = web.traffic_stats() if web is not None else None
    return {
        "traffic": dict(traffic.requests) if traffic is not None else {},
        "unscripted": traffic.unscripted if traffic is not None else 0,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "beacons": stats.beacons,
        "exposed": stats.exposed,
        "duplicates": stats.duplicates,
        "refused": dict(stats.refused),
    }


#: Pages that fail after evaluating a variant to expose when visible: nothing may be sent.
DJANGO_BROKEN = (
    '{% load mixtrack %}{% experiment "offer" as offer expose="visible" %}'
    '{% exposure_attrs "not a variant" %}'
)
JINJA_BROKEN = '{% set offer = experiment("offer", expose="visible") %}{{ exposure_attrs("x") }}'


# -- traffic that is not a person: a render-time page, and a page that loads it in the background

_RENDERED = """<!doctype html>
<html><head><meta charset="utf-8"><title>Rendered</title></head>
<body><div id="offer" data-variant="{offer}">offer</div>{script}</body></html>
"""
#: The offer exposed as it renders, with an event tracked on delivery and the script.
DJANGO_RENDERED = '{% load mixtrack %}{% experiment "offer" as offer %}' + (
    '{% track "Viewed offer" %}'
    + _RENDERED.format(offer="{{ offer }}", script="{% mixtrack_script %}")
)
JINJA_RENDERED = '{% set offer = experiment("offer") %}{{ track("Viewed offer") }}' + (
    _RENDERED.format(offer="{{ offer }}", script="{{ mixtrack_script() }}")
)
#: The same page without the script: a background load of it can never be activated.
DJANGO_BARE = '{% load mixtrack %}{% experiment "offer" as offer %}' + _RENDERED.format(
    offer="{{ offer }}", script=""
)
JINJA_BARE = '{% set offer = experiment("offer") %}' + _RENDERED.format(
    offer="{{ offer }}", script=""
)


def launcher(action: str, target: str) -> str:
    """A page whose speculation rules ``action`` ("prefetch" or "prerender") ``target``."""
    rules = json.dumps({action: [{"source": "list", "urls": [target]}]})
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Launcher</title>
<script type="speculationrules">{rules}</script>
</head><body><a id="go" href="{target}">go</a></body></html>
"""


# -- mixpanel-browser on the same page: the offer exposed by the server, a purchase tracked
# by the browser library, both sent to the collector

MIXPANEL_JS = (
    Path(__file__).resolve().parents[1] / "node/node_modules/mixpanel-browser/dist/mixpanel.umd.js"
)
_WITH_MIXPANEL = """<!doctype html>
<html><head><meta charset="utf-8"><title>Buy</title></head>
<body><div id="offer" data-variant="OFFER">offer</div>
<script src="/_test/mixpanel.js"></script>
<script>
  mixpanel.init("TOKEN", {api_host: "API_HOST", batch_flush_interval_ms: 100});
  mixpanel.track("Purchased", {amount: 29});
</script>
SCRIPT</body></html>
"""


def with_mixpanel(engine: str, token: str, api_host: str) -> str:
    """The page for ``engine`` ("django" or "jinja") with the real mixpanel-browser bundle."""
    page = _WITH_MIXPANEL.replace("TOKEN", token).replace("API_HOST", api_host)
    if engine == "django":
        head = '{% load mixtrack %}{% experiment "offer" as offer %}'
        return head + page.replace("OFFER", "{{ offer }}").replace(
            "SCRIPT", "{% mixtrack_script %}"
        )
    head = '{% set offer = experiment("offer") %}'
    return head + page.replace("OFFER", "{{ offer }}").replace("SCRIPT", "{{ mixtrack_script() }}")
