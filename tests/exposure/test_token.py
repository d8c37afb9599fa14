"""Exposure tokens: what they carry, and every way a bad one is refused."""

from __future__ import annotations

import base64
import json

import pytest
from freezegun import freeze_time

from mixtrack.errors import ConfigError, ValidationError
from mixtrack.exposure import ExposureToken, ExposureTokens, TokenError

SECRET = "django-insecure-test-secret"


def _problem(tokens: ExposureTokens, text: object, ids=None) -> str:
    with pytest.raises(TokenError) as caught:
        tokens.verify(text, ids)
    return caught.value.problem


def test_a_token_carries_who_what_and_when():
    tokens = ExposureTokens(SECRET)
    with freeze_time("2026-12-01 12:00:00"):
        text = tokens.issue("$device:7f3", "offer", "discount")
        token = tokens.verify(text, ["$device:7f3"])
    assert token == ExposureToken("$device:7f3", "offer", "discount", 1796126400)
    # Compact and URL-safe: it goes into an HTML attribute and a beacon body as it is.
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert len(text) < 160


def test_names_with_any_characters_survive():
    tokens = ExposureTokens(SECRET)
    text = tokens.issue('usér "42"', "offre.été", "réduc|tion")
    assert tokens.verify(text).variant == "réduc|tion"
    assert tokens.verify(text).distinct_id == 'usér "42"'


def test_the_token_of_one_visitor_is_refused_for_another():
    tokens = ExposureTokens(SECRET)
    text = tokens.issue("user-42", "offer", "discount")
    assert _problem(tokens, text, ["user-43", "$device:other"]) == "not_yours"
    assert _problem(tokens, text, []) == "not_yours"


def test_across_a_login_both_ids_of_the_visitor_are_accepted():
    tokens = ExposureTokens(SECRET)
    anonymous = tokens.issue("$device:7f3", "offer", "discount")
    logged_in = tokens.issue("user-42", "offer", "discount")
    visitor = ["$device:7f3", "user-42"]  # the anonymous cookie stays after login
    assert tokens.verify(anonymous, visitor).distinct_id == "$device:7f3"
    assert tokens.verify(logged_in, visitor).distinct_id == "user-42"


def test_tampering_with_any_field_breaks_the_signature():
    tokens = ExposureTokens(SECRET)
    text = tokens.issue("user-42", "offer", "control")
    payload, signature = text.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for index, value in ((0, "user-43"), (2, "discount"), (3, raw[3] + 3600)):
        changed = list(raw)
        changed[index] = value
        body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
        assert _problem(tokens, f"{body}.{signature}") == "forged"
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert _problem(tokens, f"{payload}.{flipped}") == "forged"


def test_another_apps_secret_is_refused_and_rotation_keeps_old_tokens_good():
    old = ExposureTokens("old-secret")
    text = old.issue("user-42", "offer", "discount")
    assert _problem(ExposureTokens("new-secret"), text) == "forged"
    rotated = ExposureTokens(["new-secret", "old-secret"])
    assert rotated.verify(text).variant == "discount"
    assert _problem(old, rotated.issue("user-42", "offer", "discount")) == "forged"


def test_expiry_and_tokens_from_the_future():
    tokens = ExposureTokens(SECRET, max_age=3600)
    with freeze_time("2026-12-01 12:00:00"):
        text = tokens.issue("user-42", "offer", "discount")
    with freeze_time("2026-12-01 12:59:59"):
        assert tokens.verify(text).experiment == "offer"
    with (
        freeze_time("2026-12-01 13:00:01"),
        pytest.raises(TokenError, match="expired: issued 3601 s ago, max_age is 3600 s"),
    ):
        tokens.verify(text)
    with freeze_time("2026-12-01 11:58:00"):
        assert _problem(tokens, text) == "expired"
    with freeze_time("2026-12-01 11:59:30"):  # a server a little behind the one that issued
        assert tokens.verify(text).variant == "discount"


@pytest.mark.parametrize(
    "text",
    [None, "", 42, "no-dot-here", "!!!.???", ".abc", "a" * 5000, "e30.", "e30"],
)
def test_malformed_tokens(text):
    assert _problem(ExposureTokens(SECRET), text) in {"malformed", "forged"}


def test_unparseable_but_signed_payload_is_malformed():
    import hashlib
    import hmac

    from mixtrack.exposure._token import _PURPOSE, _b64

    key = hmac.new(SECRET.encode(), _PURPOSE, hashlib.sha256).digest()
    payload = b'{"not": "a list"}'
    text = f"{_b64(payload)}.{_b64(hmac.new(key, payload, hashlib.sha256).digest())}"
    assert _problem(ExposureTokens(SECRET), text) == "malformed"


def test_bad_configuration_and_names_are_clear_errors():
    with pytest.raises(ConfigError, match="non-empty str or bytes"):
        ExposureTokens("")
    with pytest.raises(ConfigError, match="list is empty"):
        ExposureTokens([])
    with pytest.raises(ConfigError, match="max_age must be a positive number"):
        ExposureTokens(SECRET, max_age=0)
    with pytest.raises(ValidationError, match="variant name must be a non-empty str, got None"):
        ExposureTokens(SECRET).issue("user-42", "offer", None)  # type: ignore[arg-type]
    assert "key(s)" in repr(ExposureTokens(SECRET)) and SECRET not in repr(ExposureTokens(SECRET))
