"""The visitor's context: client address, User-Agent, URL, referrer, campaign."""

from __future__ import annotations

import ipaddress

import pytest

from mixtrack.web import (
    RequestInfo,
    WebSettings,
    client_address,
    context_properties,
    user_agent_properties,
    utm_parameters,
)

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", None, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # an untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),  # every hop trusted: the leftmost
        ("10.0.0.2", "garbage, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.2", "203.0.113.9:5123", "203.0.113.9"),
        ("2001:db8::5", "[2001:db8:ffff::1]:443, 2a00::1", "2a00::1"),
        ("not-an-ip", None, None),
        (None, "198.51.100.1", None),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, expected: str | None) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_forwarded_for_is_never_read_without_trusted_proxies() -> None:
    assert client_address("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"


def test_user_agents_as_mixpanel_names_them() -> None:
    assert user_agent_properties(ANDROID) == {
        "$browser": "Chrome Mobile",
        "$browser_version": 120.0,
        "$os": "Android",
        "$device": "Pixel 8",
    }
    assert user_agent_properties(MAC_SAFARI) == {
        "$browser": "Safari",
        "$browser_version": 17.2,
        "$os": "Mac OS X",
    }
    assert user_agent_properties("curl/8.5.0")["$browser"] == "curl"
    assert user_agent_properties("") == {}


def test_utm_parameters_keep_the_known_ones() -> None:
    url = "https://shop.example/?utm_source=a&utm_source=b&utm_term=x&utm_other=y&q=1"
    assert utm_parameters(url) == {"utm_source": "a", "utm_term": "x"}
    assert (
        utm_parameters("https://shop.example/?utm_medium=" + "m" * 300)["utm_medium"] == "m" * 255
    )


def test_context_groups_can_be_turned_off() -> None:
    info = RequestInfo(
        "GET",
        "https://shop.example/p?utm_source=news",
        {"user-agent": MAC_SAFARI, "referer": "https://search.example/?q=shop"},
        "203.0.113.7",
    )
    everything = context_properties(info, WebSettings(), utm={"utm_source": "news"})
    assert everything == {
        "ip": "203.0.113.7",
        "$browser": "Safari",
        "$browser_version": 17.2,
        "$os": "Mac OS X",
        "$current_url": "https://shop.example/p?utm_source=news",
        "$referrer": "https://search.example/?q=shop",
        "$referring_domain": "search.example",
        "utm_source": "news",
    }
    only_url = WebSettings(context=frozenset({"url"}))
    assert context_properties(info, only_url, utm={"utm_source": "news"}) == {
        "$current_url": "https://shop.example/p?utm_source=news"
    }
    assert context_properties(info, WebSettings(context=frozenset())) == {}
