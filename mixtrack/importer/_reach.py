"""Is ``--api-host`` there? One quick request before the file is read, so that a typo or a
collector that is not running is one line at once rather than ten minutes of retries."""

from __future__ import annotations

import httpx

from mixtrack.errors import ConfigError

__all__ = ["check_reachable"]


def check_reachable(api_host: str, timeout: float = 5.0) -> None:
    """Returns when ``api_host`` answers HTTP at all (any status); raises
    :class:`~mixtrack.errors.ConfigError` in one line when it cannot be reached.

    >>> check_reachable("http://127.0.0.1:9")  # doctest: +SKIP
    Traceback (most recent call last):
    mixtrack.errors.ConfigError: cannot reach http://127.0.0.1:9 (connection refused) ...
    """
    try:
        with httpx.Client(timeout=timeout) as http:
            http.get(api_host.rstrip("/") + "/")
    except httpx.InvalidURL as exc:
        raise ConfigError(f"--api-host {api_host!r} is not a URL ({exc})") from None
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        raise ConfigError(
            f"--api-host {api_host!r} is not an http(s) URL ({exc}); e.g. http://127.0.0.1:8765"
        ) from None
    except httpx.TransportError as exc:
        why = _why(exc)
        raise ConfigError(
            f"cannot reach {api_host} ({why}): is the collector running there "
            "(`mixtrack collector`), or is --api-host / $MIXTRACK_API_HOST mistyped?"
        ) from None


def _why(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the timeout"
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    return text or type(exc).__name__
