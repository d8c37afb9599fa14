"""``flask mixtrack check``: is the configuration complete, the API reachable, the ledger usable?

Each check prints one line, ``ok`` or ``error``, saying what was found; the command exits
with status 1 when any check failed, so deploy scripts can run it before switching traffic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import click
import httpx
from flask import Flask, current_app
from flask.cli import AppGroup

from mixtrack_flask._state import MixtrackState, app_state

__all__ = ["checks", "mixtrack_cli"]

mixtrack_cli = AppGroup("mixtrack", help="mixtrack analytics commands.")

_TIMEOUT = 3.0


def _mask(token: str) -> str:
    return token[:4] + "…" if len(token) > 8 else "…"


def checks(
    app: Flask, state: MixtrackState, *, timeout: float = _TIMEOUT
) -> Iterator[tuple[bool, str]]:
    """Run every check on ``app`` and its ``state``; yields ``(ok, message)`` pairs."""
    config = state.client.config
    yield True, f"token: set ({_mask(config.token)}), endpoint /{config.endpoint}"
    if app.secret_key:
        yield True, "secret_key: set (signs the device-id cookie)"
    else:
        yield (
            False,
            (
                "secret_key: not set; anonymous visitors need it for their signed cookie: "
                "set SECRET_KEY"
            ),
        )
    yield _check_api_host(config.api_host, timeout)
    yield _check_ledger(state)
    if state.flags is None:
        yield True, "flags: none configured (MIXTRACK_FLAGS); experiments are off"
    else:
        yield True, f"flags: {state.flags!r}"
        yield _check_script(app)


def _check_script(app: Flask) -> tuple[bool, str]:
    """Whether the templates that render experiments can be exposed after a background load."""
    env = app.jinja_env
    with_experiments, scripted = [], False
    for name in env.list_templates() if env.loader is not None else ():
        try:
            source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        except Exception:  # a loader that cannot list what it lists: nothing to check
            continue
        scripted = scripted or "mixtrack_script(" in source
        if "experiment(" in source:
            with_experiments.append(name)
    if with_experiments and not scripted:
        return True, (
            f"templates: {len(with_experiments)} render experiments (first: "
            f"{with_experiments[0]}) and none calls mixtrack_script(): pages the browser "
            "prefetches or prerenders are never exposed; add {{ mixtrack_script() }} to the "
            "base template"
        )
    return True, "templates: pages loaded in the background can report when they are shown"


def _check_api_host(api_host: str, timeout: float) -> tuple[bool, str]:
    try:
        response = httpx.get(api_host + "/", timeout=timeout)
    except httpx.HTTPError as exc:
        return False, (
            f"api_host: {api_host} is not reachable ({type(exc).__name__}: {exc}); "
            "check MIXTRACK_API_HOST and the network"
        )
    return True, f"api_host: {api_host} answered HTTP {response.status_code}"


def _check_ledger(state: MixtrackState) -> tuple[bool, str]:
    ledger = state.ledger
    key, value = f"check:{uuid.uuid4().hex}", "mixtrack flask check"
    try:
        stored = ledger.add(key, value)
        read = ledger.get(key)
        released = ledger.release(key, value)
    except Exception as exc:
        return False, (
            f"ledger: {ledger!r} failed: {type(exc).__name__}: {exc}; check MIXTRACK_LEDGER"
        )
    if not (stored and read == value and released):
        return False, (
            f"ledger: {ledger!r} did not keep a value (add={stored}, get={read!r}, "
            f"release={released})"
        )
    return True, f"ledger: {ledger!r} stores, reads and releases"


@mixtrack_cli.command("check")
def check_command() -> None:
    """Validate the mixtrack config, reach the api_host and try the ledger."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    failed = 0
    for ok, message in checks(app, app_state(app)):
        click.echo(f"{'ok   ' if ok else 'error'} {message}")
        failed += not ok
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        raise SystemExit(1)
    click.echo("mixtrack is ready")
