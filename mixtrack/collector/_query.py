"""The query and control API under ``/_mixtrack/``: JSON in, JSON out.

``GET events``     ``event``, ``distinct_id`` (``identity=1`` widens it to the merged
                   cluster), ``since``/``until`` (event time, epoch seconds), ``endpoint``,
                   ``prop.NAME=value`` (JSON value, or a plain string), ``after`` (arrival
                   cursor), ``offset``, ``limit``, ``meta=1`` (with ``--plan``: a ``plan``
                   entry ``{"ok", "reasons"}`` each), ``off_plan=1`` (only events that break
                   the plan)
``GET profiles``   ``distinct_id``          ``GET groups``  ``group_key``, ``group_id``
``GET identity``   ``distinct_id``, ``mode`` (``simplified``/``original``; default: the
                   collector's ``--identity``)          ``GET experiments``  exposures per variant
``GET rejected``   ``GET stats``            ``POST reset``
``GET audit``      ``experiment``, ``metric``, ``weights``, ... (see ``mixtrack.audit``)
``GET|POST|DELETE faults``
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mixtrack.collector import _faults
from mixtrack.collector._faults import FaultBoard
from mixtrack.collector._ingest import Counters, Settings
from mixtrack.collector._responses import Answer, control
from mixtrack.collector._store import EventQuery, Store
from mixtrack.protocol import json_values as _json
from mixtrack.protocol.identity import check_mode, clusters

if TYPE_CHECKING:
    from mixtrack.collector._store import StoredEvent
    from mixtrack.plan import Plan

#: A route: (method, query parameters, body) -> Answer.
Route = Callable[[str, Mapping[str, str], bytes], Answer]
MAX_LIMIT = 100_000
_EVENT_PARAMS = {
    "event",
    "distinct_id",
    "identity",
    "since",
    "until",
    "endpoint",
    "after",
    "offset",
    "limit",
    "meta",
    "off_plan",
}


class BadQuery(ValueError):
    pass


def event_query(params: Mapping[str, str], identity_mode: str = "simplified") -> EventQuery:
    """An :class:`EventQuery` from query parameters; :class:`BadQuery` names a bad one."""
    properties: dict[str, Any] = {}
    for name, value in params.items():
        if name.startswith("prop."):
            properties[name[5:]] = _loose_json(value)
        elif name not in _EVENT_PARAMS:
            raise BadQuery(
                f"unknown parameter {name!r}; use one of {sorted(_EVENT_PARAMS)} or prop.NAME"
            )
    return EventQuery(
        event=params.get("event"),
        distinct_id=params.get("distinct_id"),
        identity=params.get("identity") in ("1", "true"),
        identity_mode=check_mode(identity_mode),
        since=_float(params, "since"),
        until=_float(params, "until"),
        endpoint=params["endpoint"].strip("/") if "endpoint" in params else None,
        properties=properties,
        after=_int(params, "after", 0),
        offset=_int(params, "offset", 0),
        limit=min(_int(params, "limit", 1000), MAX_LIMIT),
    )


def _loose_json(value: str) -> Any:
    try:
        return _json.loads(value)
    except ValueError:  # not JSON, or NaN and the like: compare as a string
        return value


def _float(params: Mapping[str, str], name: str) -> float | None:
    if name not in params:
        return None
    try:
        value = float(params[name])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadQuery(f"{name} must be epoch seconds, got {params[name]!r}")
    return value


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    if name not in params:
        return default
    try:
        value = int(params[name])
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:  # SQLite's integers are 64-bit
        raise BadQuery(
            f"{name} must be a non-negative integer, got {params[name][:40]!r} (at most 2**63-1)"
        )
    return value


class QueryAPI:
    """Routes of ``/_mixtrack/NAME``; :meth:`add_route` lets other modules add their own."""

    def __init__(
        self, store: Store, counters: Counters, faults: FaultBoard, settings: Settings
    ) -> None:
        self.store = store
        self.counters = counters
        self.faults = faults
        self.settings = settings
        #: The tracking plan events are checked against when read (``--plan``), or None.
        self.plan: Plan | None = None
        self.routes: dict[str, Route] = {
            "events": self.events,
            "profiles": self.profiles,
            "groups": self.groups,
            "identity": self.identity,
            "experiments": self.experiments,
            "rejected": self.rejected,
            "stats": self.stats,
            "reset": self.reset,
            "faults": self.fault_control,
            "audit": self.audit,
        }

    def add_route(self, name: str, route: Route) -> None:
        """Serve ``route`` at ``/_mixtrack/<name>`` (replacing a built-in one of that name)."""
        self.routes[name] = route

    def __call__(self, name: str, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        route = self.routes.get(name)
        if route is None:
            return control(
                {"error": f"no such route /_mixtrack/{name}; known: {sorted(self.routes)}"}, 404
            )
        try:
            return route(method, params, body)
        except (BadQuery, ValueError) as exc:
            return control({"error": str(exc)}, 400)

    def events(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        query = event_query(params, self.settings.identity)
        off_plan = params.get("off_plan") in ("1", "true")
        if off_plan and self.plan is None:
            raise BadQuery("off_plan=1 needs a tracking plan: start the collector with --plan")
        found, total = self._off_plan(query) if off_plan else self.store.events(query)
        meta = params.get("meta") in ("1", "true")
        items = [
            {"event": e.event, "properties": e.properties}
            | ({"seq": e.seq, "endpoint": e.endpoint, "received_at": e.received_at} if meta else {})
            | ({"plan": self._plan_entry(e)} if meta and self.plan is not None else {})
            for e in found
        ]
        last = found[-1].seq if found else query.after
        return control({"events": items, "count": len(items), "total": total, "after": last})

    def _plan_entry(self, event: StoredEvent) -> dict[str, Any]:
        assert self.plan is not None
        reasons = [v.reason for v in self.plan.check(event.event, event.properties)]
        return {"ok": not reasons, "reasons": reasons}

    def _off_plan(self, query: EventQuery) -> tuple[list[StoredEvent], int]:
        """The events matching ``query`` that break the plan, paged by ``query``'s offset
        and limit after filtering (the plan is checked as events are read)."""
        assert self.plan is not None
        scan = attrs.evolve(query, offset=0, limit=MAX_LIMIT)
        broken: list[StoredEvent] = []
        while True:
            page, _ = self.store.events(scan)
            broken += [e for e in page if self.plan.check(e.event, e.properties)]
            if len(page) < MAX_LIMIT:
                break
            scan = attrs.evolve(scan, after=page[-1].seq)
        return broken[query.offset : query.offset + query.limit], len(broken)

    def profiles(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        found = self.store.profiles(params.get("distinct_id"))
        return control({"profiles": found, "count": len(found)})

    def groups(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        found = self.store.groups(params.get("group_key"), params.get("group_id"))
        return control({"groups": found, "count": len(found)})

    def identity(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        mode = check_mode(params.get("mode") or self.settings.identity)
        by_id = clusters(self.store.identity_links(), mode)
        if "distinct_id" in params:
            ident = params["distinct_id"]
            cluster = by_id.get(ident, [ident])
            return control(
                {"distinct_id": ident, "canonical": cluster[0], "cluster": cluster, "mode": mode}
            )
        unique = {tuple(c) for c in by_id.values()}
        return control({"clusters": sorted(list(c) for c in unique), "mode": mode})

    def experiments(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        table: dict[str, dict[str, Any]] = {}
        for experiment, variant, exposures, users in self.store.exposures():
            entry = table.setdefault(experiment, {"experiment": experiment, "variants": {}})
            entry["variants"][variant] = {"exposures": exposures, "users": users}
        return control({"experiments": list(table.values())})

    def audit(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        # Imported on first use: the audit's statistics are not needed to ingest. The audit
        # itself knows nothing of the collector: it is handed the events and the identity.
        from mixtrack.audit._route import audit_answer
        from mixtrack.audit._stream import identity_from_links

        if method != "GET":
            return control({"error": "audit takes GET"}, 405)
        identity = identity_from_links(self.store.identity_links(), self.settings.identity)
        status, answer = audit_answer(self.store.all_events(), identity, params, self.plan)
        return control(answer, status)

    def rejected(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        found = [r.as_json() for r in self.store.rejected()]
        return control({"rejected": found, "count": len(found)})

    def stats(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        stats = self.counters.as_json()
        stats["stored"] = self.store.counts()
        stats["faults_active"] = len(self.faults.active())
        stats["count_only"] = self.settings.count_only
        return control(stats)

    def reset(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        if method != "POST":
            return control({"error": "reset takes POST"}, 405)
        self.faults.clear()
        self.store.reset()
        self.counters.reset()
        return control({"reset": True})

    def fault_control(self, method: str, params: Mapping[str, str], body: bytes) -> Answer:
        if method == "DELETE":
            return control({"cleared": self.faults.clear()})
        if method == "POST":
            try:
                spec = _json.loads(body or b"{}")
            except ValueError as exc:
                raise BadQuery(f"faults takes a JSON object or array: {exc}") from None
            specs = spec if isinstance(spec, list) else [spec]
            parsed = [_faults.parse(one) for one in specs]  # all valid, or none added
            ids = [self.faults.add(fault) for fault in parsed]
            return control({"added": ids, "faults": self.faults.active()})
        return control({"faults": self.faults.active()})
