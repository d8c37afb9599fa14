"""Traffic classification, the crawler settings and mixpanel-browser's cookie, in the core."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest

from mixtrack.errors import ConfigError
from mixtrack.testing import capture
from mixtrack.web import RequestInfo, RequestTracker, WebApp, classify, read_settings
from tests._agents import FIREFOX, GOOGLEBOT

FLAGS = {"pricing": {"grid": 50, "list": 50}}


def _app(**settings: Any) -> tuple[Any, WebApp]:
    captured = capture()
    web = WebApp(
        captured.client,
        flags=FLAGS,
        secret="s",
        settings=read_settings(settings, where=str),
    )
    return captured, web


def _info(headers: dict[str, str] | None = None, **cookies: str) -> RequestInfo:
    return RequestInfo(
        "GET", "https://www.shop.example.com/p", {"user-agent": FIREFOX, **(headers or {})},
        "203.0.113.7", cookies,
    )  # fmt: skip


def test_classification_order_and_settings() -> None:
    settings = read_settings(
        {"CRAWLER_PATTERNS": [r"acme-monitor/\d"], "INTERNAL_NETWORKS": ["10.0.0.0/8"],
         "RESPECT_DNT": True}, where=str,
    )  # fmt: skip
    assert classify(_info(), settings).person
    assert classify(_info({"user-agent": "acme-monitor/3"}), settings).kind == "crawler"
    assert classify(RequestInfo("GET", "/", {}, "10.1.2.3"), settings).kind == "crawler"
    assert classify(_info({"dnt": "1"}), settings).kind == "opted_out"
    assert classify(_info({"dnt": "1"}), read_settings({}, where=str)).person
    # An opt-out wins over everything: nothing is sent, not even $ignore events.
    both = _info({"user-agent": GOOGLEBOT, "sec-gpc": "1", "sec-purpose": "prefetch"})
    assert classify(both, settings).kind == "opted_out"
    assert classify(_info(__mp_opt_in_out_tok="0"), settings, "tok").kind == "opted_out"
    assert classify(_info(__mp_opt_in_out_tok="1"), settings, "tok").person
    for header, value in [
        ("purpose", "prefetch"),
        ("x-moz", "prefetch"),
        ("x-purpose", "preview"),
        ("sec-purpose", "prefetch;prerender"),
    ]:
        assert classify(_info({header: value}), settings).kind == "speculative"  # fmt: skip


def test_bad_traffic_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="CRAWLER_PATTERNS"):
        read_settings({"CRAWLER_PATTERNS": ["("]}, where=str)
    with pytest.raises(ConfigError, match="CRAWLER_EVENTS"):
        read_settings({"CRAWLER_EVENTS": "keep"}, where=str)
    with pytest.raises(ConfigError, match="INTERNAL_NETWORKS"):
        read_settings({"INTERNAL_NETWORKS": ["not-an-ip"]}, where=str)


@pytest.mark.parametrize("choice", ["drop", "ignore"])
def test_a_crawlers_events_follow_the_setting(choice: str) -> None:
    captured, web = _app(CRAWLER_EVENTS=choice)
    tracker = RequestTracker(web, _info({"user-agent": GOOGLEBOT}))
    variant = tracker.experiment("pricing")
    assert variant.name in ("grid", "list")  # served as to anyone
    tracker.track("Viewed pricing")
    tracker.commit()
    captured.client.flush(timeout=5)
    names = [event["event"] for event in captured]
    stats = web.traffic_stats()
    assert "$experiment_started" not in names and "Experiment rendered" not in names
    if choice == "drop":
        assert names == [] and stats.events_dropped == 1
    else:
        assert names == ["Viewed pricing"] and captured[0]["properties"]["$ignore"] is True
    assert stats.requests == {"crawler": 1}


def _cookie_json(header: str) -> dict[str, Any]:
    value = header.split(";", 1)[0].split("=", 1)[1]
    return dict(json.loads(unquote(value)))


def test_mixpanel_browser_cookie_written_on_first_visit_and_kept_in_step() -> None:
    _captured, web = _app(MIXPANEL_BROWSER=True)
    assert web.token
    tracker = RequestTracker(web, _info())
    tracker.experiment("pricing")
    [ours, theirs] = [c for c in tracker.response_cookies() if c.name != "mixtrack_anon_utm"]
    assert theirs.name == f"mp_{web.token}_mixpanel"
    header = theirs.header()
    assert "Domain=.example.com" in header and "HttpOnly" not in header
    assert _cookie_json(header) == {
        "distinct_id": "$device:" + tracker.device_id, "$device_id": tracker.device_id,
    }  # fmt: skip
    # The browser kept it and added its own properties; the user logs in.
    kept = theirs.value.replace("%7D", "%2C%22%24initial_referrer%22%3A%22%24direct%22%7D")
    signed = web.signer.sign(tracker.device_id)
    after = RequestTracker(web, _info(**{ours.name: signed, theirs.name: kept}))
    assert after.device_id == tracker.device_id and not after.response_cookies()
    after.login("user-42")
    [rewritten] = after.response_cookies()
    assert _cookie_json(rewritten.header()) == {
        "distinct_id": "user-42", "$device_id": tracker.device_id, "$user_id": "user-42",
        "$initial_referrer": "$direct",
    }  # fmt: skip


def test_the_browsers_device_id_is_adopted_and_both_ids_dedupe() -> None:
    captured, web = _app()
    first = RequestTracker(web, _info())
    first.experiment("pricing")
    first.commit()
    old = first.device_id
    browser = "0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10"
    value = json.dumps({"distinct_id": "$device:" + browser, "$device_id": browser})
    cookies = {"mixtrack_anon": web.signer.sign(old), f"mp_{web.token}_mixpanel": value}
    second = RequestTracker(web, _info(**cookies))
    assert second.device_id == browser  # the server follows the browser
    assert second.experiment("pricing").name == first.experiment("pricing").name
    second.commit()
    captured.client.flush(timeout=5)
    assert [e["event"] for e in captured].count("$experiment_started") == 1
