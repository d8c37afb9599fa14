"""Exposure tokens: a page's promise "this visitor was shown this variant", signed by the app.

A token is ``<payload>.<signature>``, both unpadded URL-safe base64. The payload is the JSON
array ``[distinct_id, experiment, variant, issued]`` (issue time in whole seconds); the
signature is HMAC-SHA256 over the payload under a key derived from the app's secret, so a
token cannot be replayed as any other signed value of the app (session, cookie) nor the
other way round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

from mixtrack.errors import ConfigError, MixtrackError, ValidationError

__all__ = ["ExposureToken", "ExposureTokens", "TokenError", "TokenProblem"]

TokenProblem = Literal["malformed", "forged", "expired", "not_yours"]
"""Why a token was refused: unreadable, bad signature, too old (or from the future), or
issued to another visitor."""

_PURPOSE = b"mixtrack.exposure-token.v1"
# Tokens come from pages and reach the server in a beacon; anything longer is not ours.
MAX_TOKEN_CHARS = 2048
# Servers of one fleet disagree on the time by a little; more than this is not a clock.
_CLOCK_SKEW = 60.0


class TokenError(MixtrackError):
    """An exposure token was refused; ``problem`` says why (see :data:`TokenProblem`).

    >>> try:
    ...     ExposureTokens("secret").verify("nonsense")
    ... except TokenError as exc:
    ...     exc.problem
    'malformed'
    """

    def __init__(self, problem: TokenProblem, message: str) -> None:
        super().__init__(message)
        self.problem: TokenProblem = problem


@attrs.frozen
class ExposureToken:
    """What a verified token says: ``distinct_id`` was shown ``variant`` at ``issued``.

    >>> token = ExposureToken("user-42", "offer", "discount", 1700000000)
    >>> token.belongs_to(["$device:7f3", "user-42"])
    True
    """

    distinct_id: str
    experiment: str
    variant: str
    issued: int

    def belongs_to(self, visitor_ids: Iterable[str | None]) -> bool:
        """Whether the token was issued to one of the visitor's ids (anonymous or user)."""
        return any(
            other is not None and hmac.compare_digest(self.distinct_id.encode(), other.encode())
            for other in visitor_ids
        )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(raw, bytes) or not raw:
        raise ConfigError(
            f"the exposure token secret must be a non-empty str or bytes (the app's "
            f"SECRET_KEY), got {secret!r}"
        )
    return hmac.new(raw, _PURPOSE, hashlib.sha256).digest()


def _name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty str, got {value!r}")
    return value


class ExposureTokens:
    """Issue and verify exposure tokens with the app's secret.

    - ``secret``: the app's secret key (Django ``SECRET_KEY``, Flask ``SECRET_KEY``), or a
      sequence of them: the first signs, every one verifies (rotation, as Django's
      ``SECRET_KEY_FALLBACKS``).
    - ``max_age``: seconds a token stays good after it was issued (default a day: a page
      may sit in a background tab for hours before it is looked at).

    >>> tokens = ExposureTokens("app-secret")
    >>> text = tokens.issue("user-42", "offer", "discount")
    >>> tokens.verify(text).variant
    'discount'
    >>> ExposureTokens("another-secret").verify(text)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TokenError: the exposure token's signature does not match: ...
    """

    def __init__(self, secret: str | bytes | Sequence[str | bytes], *, max_age: float = 86400.0):
        secrets = [secret] if isinstance(secret, (str, bytes)) else list(secret)
        if not secrets:
            raise ConfigError("the exposure token secret list is empty: give the app's SECRET_KEY")
        if not isinstance(max_age, (int, float)) or isinstance(max_age, bool) or max_age <= 0:
            raise ConfigError(f"max_age must be a positive number of seconds, got {max_age!r}")
        self._keys = [_key(s) for s in secrets]
        self.max_age = float(max_age)

    def issue(
        self, distinct_id: str, experiment: str, variant: str, *, now: float | None = None
    ) -> str:
        """A token saying ``distinct_id`` is being shown ``variant`` of ``experiment``."""
        issued = int(time.time() if now is None else now)
        payload = json.dumps(
            [
                _name("distinct_id", distinct_id),
                _name("experiment name", experiment),
                _name("variant name", variant),
                issued,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._keys[0], payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(signature)}"

    def verify(
        self,
        token: object,
        visitor_ids: Iterable[str | None] | None = None,
        *,
        now: float | None = None,
    ) -> ExposureToken:
        """The token's contents if its signature is ours, it has not expired and, when
        ``visitor_ids`` are given, it was issued to one of them.

        Raises :class:`TokenError` (``problem`` ``"malformed"``, ``"forged"``,
        ``"expired"`` or ``"not_yours"``). The signature is checked in constant time
        before the payload is parsed.

        >>> tokens = ExposureTokens("app-secret")
        >>> text = tokens.issue("$device:7f3", "offer", "discount")
        >>> tokens.verify(text, ["$device:7f3", "user-42"]).distinct_id  # after a login
        '$device:7f3'
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenError(
                "malformed", f"an exposure token must be a short non-empty str, got {token!r:.80}"
            )
        payload_text, dot, signature_text = token.partition(".")
        try:
            payload = _unb64(payload_text)
            signature = _unb64(signature_text)
        except (binascii.Error, ValueError):
            raise TokenError("malformed", f"not an exposure token: {token!r:.80}") from None
        if not dot or not payload:
            raise TokenError("malformed", f"not an exposure token: {token!r:.80}")
        if not any(
            hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), signature)
            for key in self._keys
        ):
            raise TokenError(
                "forged",
                "the exposure token's signature does not match: it was altered, or signed "
                "with another secret",
            )
        try:
            distinct_id, experiment, variant, issued = json.loads(payload)
            value = ExposureToken(
                _name("distinct_id", distinct_id),
                _name("experiment name", experiment),
                _name("variant name", variant),
                int(issued),
            )
        except (ValueError, TypeError):
            # Signed by us but unreadable: a token format this version does not know.
            raise TokenError("malformed", "the exposure token's payload is unreadable") from None
        clock = time.time() if now is None else now
        age = clock - value.issued
        if age > self.max_age:
            raise TokenError(
                "expired",
                f"the exposure token expired: issued {age:.0f} s ago, max_age is "
                f"{self.max_age:.0f} s; render the page again for a fresh one",
            )
        if age < -_CLOCK_SKEW:
            raise TokenError(
                "expired",
                f"the exposure token was issued {-age:.0f} s in the future; check the "
                "servers' clocks",
            )
        if visitor_ids is not None and not value.belongs_to(visitor_ids):
            raise TokenError(
                "not_yours",
                "the exposure token was issued to another visitor; a page hands out tokens "
                "for its own visitor only",
            )
        return value

    def __repr__(self) -> str:
        return f"ExposureTokens(<{len(self._keys)} key(s)>, max_age={self.max_age:g})"
