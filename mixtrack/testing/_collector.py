"""``mixtrack.testing.Collector``: a real local collector on a free port, for tests and scripts.

It serves the same app as ``mixtrack collector`` on a real socket from a background thread and
reads it back over the collector's HTTP query API, so what a test sees is exactly what any
client (the SDK, mixpanel-python, Node, a browser) would see.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from mixtrack.collector import CollectorApp, CollectorServer, CountingStore, SqliteStore
from mixtrack.collector._access import CONTROL_HEADER
from mixtrack.collector._store import Store
from mixtrack.protocol.identity import check_mode

if TYPE_CHECKING:
    from mixtrack.plan import Plan


class Collector:
    """Start and stop a local Mixpanel-compatible collector; query what it received.

    >>> with Collector() as collector:  # doctest: +SKIP
    ...     client = mixtrack.Client("tok", api_host=collector.url)
    ...     client.track("user-42", "Signed up", {"plan": "pro"})
    ...     client.flush()
    ...     assert collector.events("Signed up", plan="pro")

    ``db`` is ``":memory:"`` by default; ``tokens``/``secrets`` restrict what is accepted
    (see ``mixtrack collector --help``); ``tls=True`` serves HTTPS with a generated CA whose
    certificate is at :attr:`ca_file`. ``identity`` is the Mixpanel ID-merge system whose rules
    build identity clusters (``"simplified"``, the default, or ``"original"``); the
    :attr:`identity_mode` attribute switches it while running.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path = ":memory:",
        tokens: Iterable[str] = (),
        secrets: Iterable[str] = (),
        tls: bool = False,
        count_only: bool = False,
        timeout: float = 10.0,
        identity: str = "simplified",
        plan: str | os.PathLike[str] | Plan | None = None,
    ) -> None:
        self._plan = plan
        self._options = (host, port, str(db), tuple(tokens), tuple(secrets), tls, count_only)
        self._timeout = timeout
        self._server: CollectorServer | None = None
        self._http: httpx.Client | None = None
        self._before_read: list[Callable[[], object]] = []
        self.ca_file: Path | None = None
        self._identity = check_mode(identity)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Collector:
        """Bind a port and serve in a background thread. Returns ``self``."""
        if self._server is not None:
            return self
        host, port, db, tokens, secrets, tls, count_only = self._options
        store: Store = CountingStore() if count_only else SqliteStore(db)
        app = CollectorApp(
            store,
            tokens=tokens,
            secrets=secrets,
            count_only=count_only,
            identity=self._identity,
            plan=self._plan,
        )
        context = None
        if tls:
            from mixtrack.collector._tls import local_tls

            local = local_tls(Path(tempfile.mkdtemp(prefix="mixtrack-tls-")))
            context, self.ca_file = local.context, local.ca_file
        self._server = CollectorServer(app, host, port, ssl_context=context).start()
        verify: bool | ssl.SSLContext = True
        if self.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self.ca_file))
        # trust_env=False: a proxy from the environment must never sit between a test and
        # its local collector.
        self._http = httpx.Client(
            base_url=self._server.url,
            timeout=self._timeout,
            trust_env=False,
            verify=verify,
            # The control API takes state-changing requests only with this header.
            headers={CONTROL_HEADER: "1"},
            auth=_access_credentials(secrets),
        )
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving; requests in progress finish first (up to ``timeout``)."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._server is not None:
            self._server.stop(timeout)
            self._server = None

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to give clients as ``api_host``, e.g. ``http://127.0.0.1:40123``."""
        return self._running().url

    @property
    def live_url(self) -> str:
        """The live view page."""
        return self._running().live_url

    @property
    def identity_mode(self) -> str:
        """The ID-merge system identity clusters are built with; assign to switch."""
        return self._identity

    @identity_mode.setter
    def identity_mode(self, mode: str) -> None:
        self._identity = check_mode(mode)
        if self._server is not None:
            self._server.app.identity = self._identity

    @property
    def app(self) -> CollectorApp:
        """The WSGI app being served (its store, counters and faults)."""
        return self._running().app

    def before_read(self, hook: Callable[[], object]) -> Callable[[], None]:
        """Call ``hook`` (e.g. ``client.flush``) before every query; returns an undo function."""
        self._before_read.append(hook)
        return lambda: self._before_read.remove(hook) if hook in self._before_read else None

    # -- queries -----------------------------------------------------------------------------

    def events(
        self,
        event: str | None = None,
        distinct_id: str | None = None,
        *,
        identity: bool = False,
        since: float | None = None,
        until: float | None = None,
        endpoint: str | None = None,
        **properties: Any,
    ) -> list[dict[str, Any]]:
        """Stored events in arrival order, as ``{"event": ..., "properties": {...}}``.

        Keyword arguments beyond the named ones match property values exactly:
        ``collector.events("Signed up", plan="pro")``. ``identity=True`` matches every id
        merged with ``distinct_id`` by ``$identify``, ``$create_alias`` or ``$merge``.
        """
        params: dict[str, str] = {"limit": "10000"}
        for name, value in (
            ("event", event),
            ("distinct_id", distinct_id),
            ("since", since),
            ("until", until),
            ("endpoint", endpoint),
        ):
            if value is not None:
                params[name] = str(value)
        if identity:
            params["identity"] = "1"
        for name, value in properties.items():
            params[f"prop.{name}"] = json.dumps(value)
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self._get("events", {**params, "after": str(after)})
            found.extend(page["events"])
            if page["count"] < 10000:
                return found
            after = page["after"]

    def wait_for(
        self, count: int = 1, event: str | None = None, *, timeout: float = 5.0, **filters: Any
    ) -> list[dict[str, Any]]:
        """Poll until at least ``count`` matching events arrived; return them (maybe fewer)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(event, **filters)
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.02)

    def profiles(self, distinct_id: str | None = None) -> list[dict[str, Any]]:
        """Profiles after all operations: ``[{"distinct_id", "properties", "token"}]``."""
        params = {} if distinct_id is None else {"distinct_id": distinct_id}
        found: list[dict[str, Any]] = self._get("profiles", params)["profiles"]
        return found

    def profile(self, distinct_id: str) -> dict[str, Any] | None:
        """One profile's properties, or ``None`` when there is none (or it was deleted)."""
        found = self.profiles(distinct_id)
        return found[0]["properties"] if found else None

    def groups(
        self, group_key: str | None = None, group_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Group profiles: ``[{"group_key", "group_id", "properties", "token"}]``."""
        params = {
            name: value
            for name, value in (("group_key", group_key), ("group_id", group_id))
            if value is not None
        }
        found: list[dict[str, Any]] = self._get("groups", params)["groups"]
        return found

    def identity(self, distinct_id: str) -> list[str]:
        """Every id merged with ``distinct_id``, canonical first (just itself when unmerged)."""
        cluster: list[str] = self._get("identity", {"distinct_id": distinct_id})["cluster"]
        return cluster

    def experiments(self) -> list[dict[str, Any]]:
        """``$experiment_started`` exposures per experiment and variant."""
        found: list[dict[str, Any]] = self._get("experiments", {})["experiments"]
        return found

    def rejected(self) -> list[dict[str, Any]]:
        """Refused requests (and requests with refused records), with the reasons."""
        found: list[dict[str, Any]] = self._get("rejected", {})["rejected"]
        return found

    def stats(self) -> dict[str, Any]:
        """Counters: requests, events_stored, duplicates_dropped, rejected, ..."""
        stats: dict[str, Any] = self._get("stats", {})
        return stats

    # -- control -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all events, profiles, groups, rejections, counters and faults."""
        self._client().post("/_mixtrack/reset", json={}).raise_for_status()

    def faults(
        self,
        kind: str,
        *,
        count: int | None = None,
        seconds: float | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        endpoints: Sequence[str] | str | None = None,
        indices: Sequence[int] | None = None,
        fraction: float | None = None,
    ) -> int:
        """Inject a fault (see ``mixtrack.collector._faults`` for the kinds); returns its id.

        >>> collector.faults("status", status=503, retry_after=1, count=2)  # doctest: +SKIP
        """
        spec: dict[str, Any] = {"kind": kind}
        for name, value in (
            ("count", count),
            ("seconds", seconds),
            ("status", status),
            ("retry_after", retry_after),
            ("delay", delay),
            ("fraction", fraction),
        ):
            if value is not None:
                spec[name] = value
        if endpoints is not None:
            spec["endpoints"] = [endpoints] if isinstance(endpoints, str) else list(endpoints)
        if indices is not None:
            spec["indices"] = list(indices)
        response = self._client().post("/_mixtrack/faults", json=spec)
        if response.status_code != 200:
            raise ValueError(response.json().get("error", response.text))
        added: list[int] = response.json()["added"]
        return added[0]

    def clear_faults(self) -> int:
        """Remove every fault; hung requests are released. Returns how many were active."""
        answer = self._client().delete(
            "/_mixtrack/faults", headers={"Content-Type": "application/json"}
        )
        cleared: int = answer.json()["cleared"]
        return cleared

    # -- plumbing ----------------------------------------------------------------------------

    def _get(self, route: str, params: dict[str, str]) -> Any:
        for hook in list(self._before_read):
            hook()
        response = self._client().get(f"/_mixtrack/{route}", params=params)
        if response.status_code != 200:
            raise ValueError(f"/_mixtrack/{route}: {response.json().get('error', response.text)}")
        return response.json()

    def _client(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError("the collector is not running: call start() or use `with`")
        return self._http

    def _running(self) -> CollectorServer:
        if self._server is None:
            raise RuntimeError("the collector is not running: call start() or use `with`")
        return self._server


def _access_credentials(secrets: Sequence[str]) -> tuple[str, str] | None:
    """Basic credentials of the query and control API from the first secret, if any."""
    if not secrets:
        return None
    user, _, password = secrets[0].partition(":")
    return user, password
