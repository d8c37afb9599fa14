"""The device-id cookie: one format for every framework, signed with the app's secret key.

The cookie holds the visitor's device id (a UUID, as mixpanel-browser makes them) and an
HMAC-SHA256 signature, so a visitor cannot pick someone else's device id and have it merged
into their account at login. The anonymous ``distinct_id`` is ``$device:<device id>``.

>>> signer = CookieSigner("app-secret")
>>> value = signer.sign("0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10")
>>> signer.unsign(value)
'0b9f7e3c-2f3a-4f55-9b62-3c5b1e8f2a10'
>>> signer.unsign(value.replace("0b9f", "1b9f")) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Sequence
from http.cookies import SimpleCookie

import attrs

from mixtrack.errors import ConfigError

__all__ = ["CookieSigner", "SetCookie", "new_device_id"]

_DEVICE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_SIGNATURE_CHARS = 27  # 160 bits of the HMAC, base64url without padding


def new_device_id() -> str:
    """A fresh device id: a random UUID, in mixpanel-browser's form.

    >>> len(new_device_id())
    36
    """
    return str(uuid.uuid4())


def is_device_id(value: object) -> bool:
    """Whether ``value`` can be a device id (what :func:`new_device_id` makes, or similar)."""
    return isinstance(value, str) and _DEVICE_ID.fullmatch(value) is not None


class CookieSigner:
    """Signs cookie values with ``secret`` (``fallbacks`` still verify, for key rotation).

    ``purpose`` keeps signatures for one cookie from being valid for another.
    """

    def __init__(
        self,
        secret: str | bytes,
        fallbacks: Sequence[str | bytes] = (),
        *,
        purpose: str = "mixtrack.web.device_id",
    ) -> None:
        if not secret:
            raise ConfigError(
                "the device-id cookie is signed with the app's secret key, which is empty: "
                "set it (Django/Flask SECRET_KEY, FastAPI secret_key= or MIXTRACK_SECRET_KEY)"
            )
        self._keys = [
            _key(key, purpose) for key in (secret, *fallbacks) if key
        ]  # the first one signs

    def _signature(self, key: bytes, value: str) -> str:
        digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]

    def sign(self, value: str) -> str:
        """``value`` and its signature, as the cookie holds them."""
        return f"{value}.{self._signature(self._keys[0], value)}"

    def unsign(self, signed: str | None) -> str | None:
        """The value in ``signed``, or None when missing, malformed or forged."""
        if not signed or "." not in signed:
            return None
        value, _, signature = signed.rpartition(".")
        for key in self._keys:
            if hmac.compare_digest(self._signature(key, value), signature):
                return value
        return None


def _key(secret: str | bytes, purpose: str) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(purpose.encode() + b"\x00" + raw).digest()


def encode_utm(utm: dict[str, str]) -> str:
    """The visit's campaign parameters as a cookie-safe string (base64url of JSON)."""
    compact = json.dumps(utm, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(compact.encode()).decode()


def decode_utm(value: str | None) -> dict[str, str]:
    """What :func:`encode_utm` made (an empty dict for anything else).

    >>> decode_utm(encode_utm({"utm_source": "news"}))
    {'utm_source': 'news'}
    """
    if not value:
        return {}
    try:
        kept = json.loads(base64.urlsafe_b64decode(value.encode()))
    except ValueError:
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if k.startswith("utm_") and isinstance(v, str)}


@attrs.frozen
class SetCookie:
    """A cookie the response must set (``max_age`` None: a session cookie; 0: delete it).

    Adapters hand their framework's ``set_cookie`` to :meth:`set_on` (Django's and
    Werkzeug's take the same keywords); :meth:`header` is the ``Set-Cookie`` value for raw
    ASGI.

    >>> SetCookie("mixtrack_anon", "abc", max_age=60, secure=True).header()
    'mixtrack_anon=abc; HttpOnly; Max-Age=60; Path=/; SameSite=Lax; Secure'
    """

    name: str
    value: str
    max_age: int | None
    secure: bool = False
    httponly: bool = True
    samesite: str | None = "Lax"
    path: str = "/"
    domain: str | None = None

    def set_on(self, set_cookie: Callable[..., object]) -> None:
        """Sets this cookie through a framework's ``response.set_cookie``."""
        set_cookie(
            self.name,
            self.value,
            max_age=self.max_age,
            path=self.path,
            secure=self.secure,
            httponly=self.httponly,
            samesite=self.samesite,
            domain=self.domain,
        )

    def header(self) -> str:
        """The ``Set-Cookie`` header value."""
        cookie: SimpleCookie = SimpleCookie()
        cookie[self.name] = self.value
        morsel = cookie[self.name]
        morsel["path"] = self.path
        if self.domain is not None:
            morsel["domain"] = self.domain
        if self.max_age is not None:
            morsel["max-age"] = str(self.max_age)
        if self.secure:
            morsel["secure"] = True
        if self.httponly:
            morsel["httponly"] = True
        if self.samesite is not None:
            morsel["samesite"] = self.samesite
        return morsel.OutputString()
