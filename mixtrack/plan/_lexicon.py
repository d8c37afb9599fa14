"""Lexicon sync: ``mixtrack plan push`` and ``pull`` over Mixpanel's Lexicon Schemas API.

The API lives at ``https://{mixpanel|eu.mixpanel|in.mixpanel}.com/api/app/projects/{id}/
schemas`` and takes a service account as HTTP Basic credentials (``user:secret``). ``GET
/schemas`` lists every schema; ``POST /schemas`` uploads many as ``{"entries": [...],
"truncate": false}``, each replacing the stored schema of that entity. Lexicon merges into an
upload the ``metadata["com.mixpanel"]`` fields that it leaves out and the stored schema has; a
field sent as ``null`` is removed. :func:`merged` says what Lexicon will hold after an
upload, so ``--dry-run`` shows the real change.

>>> merged({"metadata": {"com.mixpanel": {"hidden": True, "tags": ["a"]}}},
...        {"metadata": {"com.mixpanel": {"tags": None}}})
{'metadata': {'com.mixpanel': {'hidden': True}}}
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from mixtrack.errors import PlanError
from mixtrack.plan._plan import Plan
from mixtrack.plan._schema import Entry, bulk_entries, dumps

__all__ = ["HOSTS", "Change", "Lexicon", "diff", "merged"]

#: Lexicon's servers by data residency.
HOSTS = {
    "us": "https://mixpanel.com",
    "eu": "https://eu.mixpanel.com",
    "in": "https://in.mixpanel.com",
}


def merged(stored: Mapping[str, Any] | None, upload: Mapping[str, Any]) -> dict[str, Any]:
    """The schema Lexicon holds after ``upload`` replaces ``stored`` (metadata merge)."""
    result = copy.deepcopy(dict(upload))
    old = ((stored or {}).get("metadata") or {}).get("com.mixpanel") or {}
    new = (result.get("metadata") or {}).get("com.mixpanel")
    if not old and new is None:
        return result
    meta = {**old, **(new or {})}
    meta = {k: v for k, v in meta.items() if v is not None}
    outer = dict(result.get("metadata") or {})
    outer["com.mixpanel"] = meta
    result["metadata"] = outer
    return result


@attrs.frozen
class Change:
    """One entity's change: ``kind`` is ``"add"``, ``"change"`` or ``"keep"``; ``diff`` is a
    unified diff of the stored and the resulting schema (empty unless changed)."""

    kind: str
    entity_type: str
    name: str
    diff: str


def diff(plan: Plan, stored: Sequence[Entry]) -> list[Change]:
    """What uploading ``plan`` changes in a project holding ``stored``."""
    before = {(e.entity_type, e.name): e.schema for e in stored}
    changes = []
    for entry in plan.entries:
        key = (entry.entity_type, entry.name)
        old = before.get(key)
        after = merged(old, entry.schema)
        if old is None:
            kind, text = "add", _unified(None, after, entry)
        elif json.loads(json.dumps(old)) == after:
            kind, text = "keep", ""
        else:
            kind, text = "change", _unified(old, after, entry)
        changes.append(Change(kind, entry.entity_type, entry.name, text))
    return changes


def _unified(old: Mapping[str, Any] | None, new: Mapping[str, Any], entry: Entry) -> str:
    label = f"{entry.entity_type}/{entry.name}"
    lines = difflib.unified_diff(
        dumps(old).splitlines(keepends=True) if old is not None else [],
        dumps(new).splitlines(keepends=True),
        fromfile=f"lexicon:{label}" if old is not None else "/dev/null",
        tofile=f"plan:{label}",
    )
    return "".join(lines)


class Lexicon:
    """A project's schemas in Lexicon.

    >>> lexicon = Lexicon(12345, "mixtrack-ci.abc123:SECRET", region="eu")  # doctest: +SKIP
    >>> lexicon.pull()  # doctest: +SKIP
    <Plan 'lexicon project 12345': 7 events, a profile>
    """

    def __init__(
        self,
        project_id: int,
        service_account: str,
        *,
        region: str = "us",
        api_host: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        user, sep, secret = service_account.partition(":")
        if not sep or not user or not secret:
            raise PlanError(
                "a service account is 'username:secret' (from MIXTRACK_SERVICE_ACCOUNT or "
                "--service-account); create one under Organization settings > Service accounts"
            )
        if api_host is None:
            if region not in HOSTS:
                raise PlanError(f"region is one of {', '.join(HOSTS)}, got {region!r}")
            api_host = HOSTS[region]
        self.project_id = project_id
        self.base = f"{api_host.rstrip('/')}/api/app/projects/{project_id}/schemas"
        self._http = httpx.Client(
            auth=(user, secret), timeout=timeout, transport=transport, trust_env=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Lexicon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stored(self) -> list[Entry]:
        """Every schema the project holds (``GET /schemas``)."""
        body = self._call("GET", self.base)
        results = body.get("results") if isinstance(body, Mapping) else None
        if not isinstance(results, list):
            raise PlanError(f"Lexicon answered GET {self.base} without a results list")
        return bulk_entries(results, f"lexicon project {self.project_id}")

    def pull(self) -> Plan:
        """The project's schemas as a plan."""
        return Plan(self.stored(), source=f"lexicon project {self.project_id}")

    def push(self, plan: Plan) -> list[Change]:
        """Upload what changed in one bulk request; returns every entity's change."""
        changes = diff(plan, self.stored())
        wanted = {(c.entity_type, c.name) for c in changes if c.kind != "keep"}
        entries = [e.as_bulk() for e in plan.entries if (e.entity_type, e.name) in wanted]
        if entries:
            self._call("POST", self.base, {"entries": entries, "truncate": False})
        return changes

    def _call(self, method: str, url: str, body: Any = None) -> Any:
        try:
            response = self._http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"cannot reach Lexicon at {url}: {exc}") from exc
        if response.status_code == 401:
            raise PermissionError(
                f"Lexicon refused the service account ({response.status_code}): check "
                "MIXTRACK_SERVICE_ACCOUNT and that the account is a member of the project"
            )
        if response.status_code >= 400:
            raise ConnectionError(
                f"Lexicon answered {method} {url} with {response.status_code}: "
                f"{response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError:
            raise ConnectionError(f"Lexicon answered {method} {url} with non-JSON") from None
