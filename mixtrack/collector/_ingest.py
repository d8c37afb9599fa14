"""One ingest request, start to end: decode → authenticate → validate → store → answer."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import attrs

from mixtrack.collector import _responses as answers
from mixtrack.collector import _validate as validate
from mixtrack.collector._access import basic_auth, import_authorized
from mixtrack.collector._counting import CountingStore
from mixtrack.collector._faults import Fault
from mixtrack.collector._responses import Answer, FailedRecord
from mixtrack.collector._store import Rejection, Store
from mixtrack.collector._validate import Event, Update
from mixtrack.protocol.decode import (
    Payload,
    WireError,
    WireRequest,
    decode,
    wants_form_answer,
    wants_verbose_answer,
)
from mixtrack.protocol.identity import IdentityMode, links_of


@attrs.frozen
class Settings:
    """What the collector accepts. Empty ``tokens``/``secrets``: anything goes."""

    tokens: frozenset[str] = frozenset()
    #: Project secrets (``"secret"``) and service accounts (``"user:password"``) for /import.
    secrets: frozenset[str] = frozenset()
    count_only: bool = False
    #: The Mixpanel ID-merge system whose rules build identity clusters.
    identity: IdentityMode = "simplified"
    #: The project a service account must name (``project_id=``) on /import, when set.
    project_id: str | None = None
    #: Credentials of the query and control API and the live view; empty: open.
    access_keys: frozenset[str] = frozenset()


class Counters:
    """The numbers behind ``GET /_mixtrack/stats``; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_endpoint: dict[str, int] = {}
        self.events_stored = 0
        self.duplicates_dropped = 0
        self.rejected_requests = 0
        self.rejected_records = 0
        self.updates_applied = 0
        self.faulted_requests = 0
        self.tokens: set[str] = set()

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def saw_tokens(self, tokens: set[str]) -> None:
        if tokens - self.tokens:
            with self._lock:
                self.tokens |= tokens

    def request(self, endpoint: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "requests_by_endpoint": dict(self.by_endpoint),
                "events_stored": self.events_stored,
                "duplicates_dropped": self.duplicates_dropped,
                "rejected": self.rejected_requests,
                "rejected_records": self.rejected_records,
                "updates_applied": self.updates_applied,
                "faulted_requests": self.faulted_requests,
                "tokens": sorted(self.tokens),
            }


class Ingest:
    """Handles requests to /track, /engage, /groups and /import against a :class:`Store`."""

    def __init__(self, store: Store, settings: Settings, counters: Counters) -> None:
        self.store = store
        self.settings = settings
        self.counters = counters

    def handle(self, request: WireRequest, endpoint: str, fault: Fault | None = None) -> Answer:
        now = time.time()
        try:
            payload = decode(request, endpoint)
        except WireError as exc:
            form = wants_form_answer(request) if exc.form is None else exc.form
            self._reject(request, endpoint, exc.status, exc.message, now)
            return answers.for_request(
                exc.status, exc.message, form=form, verbose=wants_verbose_answer(request)
            )
        credentials = basic_auth(request.headers.get("authorization", ""))
        if endpoint == "import" and not import_authorized(
            credentials,
            payload.params,
            secrets=self.settings.secrets,
            tokens=self.settings.tokens,
            project_id=self.settings.project_id,
        ):
            self._reject(request, endpoint, 401, answers.INVALID_CREDENTIALS, now)
            return self._error(payload, 401, answers.INVALID_CREDENTIALS)
        if self.settings.count_only and isinstance(self.store, CountingStore):
            self.store.count_records(payload.records)
            self.counters.add(events_stored=len(payload.records))
            return self._success(payload, len(payload.records))
        auth_token = credentials[0] if credentials and not credentials[1] else None
        rules = validate.Rules(tokens=self.settings.tokens, now=now)
        results: list[Any]
        if endpoint in ("track", "import"):
            results = validate.events(
                payload.records, endpoint=endpoint, rules=rules, auth_token=auth_token
            )
        else:
            results = validate.updates(payload.records, endpoint=endpoint, rules=rules)
        if fault is not None and fault.kind == "partial":
            results = [
                _refuse_by_fault(i, r, payload) if fault.rejects(i) else r
                for i, r in enumerate(results)
            ]
        accepted = [r for r in results if not isinstance(r, FailedRecord)]
        failed = [r for r in results if isinstance(r, FailedRecord)]
        self._store(endpoint, accepted, now)
        if failed:
            reason = f"{len(failed)} of {len(results)} records refused: {failed[0].message}"
            self._reject(request, endpoint, 400, reason, now, failed)
            self.counters.add(rejected_records=len(failed))
            if not payload.form or payload.strict:
                return answers.partial_failure(len(accepted), failed)
            if accepted and endpoint == "track":
                # Mixpanel's /track answers 1 when any record of the batch was well-formed; the
                # refused ones stay visible in GET /_mixtrack/rejected.
                return self._success(payload, len(accepted))
            return answers.legacy(False, verbose=payload.verbose, error=reason, status=400)
        return self._success(payload, len(accepted))

    def _store(self, endpoint: str, accepted: list[Any], now: float) -> None:
        if endpoint in ("track", "import"):
            events: list[Event] = accepted
            # Links of both ID-merge systems are kept: the mode applies when clusters are built.
            links = [link for e in events for link in links_of(e.name, e.properties)]
            written = self.store.add_events(events, endpoint=endpoint, received_at=now, links=links)
            self.counters.add(events_stored=written.stored, duplicates_dropped=written.duplicates)
            tokens = {e.token for e in events}
        else:
            updates: list[Update] = accepted
            self.counters.add(updates_applied=self.store.apply_updates(updates, received_at=now))
            tokens = {u.token for u in updates}
        self.counters.saw_tokens(tokens)

    def _success(self, payload: Payload, count: int) -> Answer:
        if payload.endpoint == "import" and not payload.form:
            return answers.imported(count)
        return answers.legacy(True, verbose=payload.verbose)

    def _error(self, payload: Payload, status: int, message: str) -> Answer:
        return answers.for_request(status, message, form=payload.form, verbose=payload.verbose)

    def _reject(
        self,
        request: WireRequest,
        endpoint: str,
        status: int,
        reason: str,
        now: float,
        failed: list[FailedRecord] | None = None,
    ) -> None:
        self.counters.add(rejected_requests=1)
        self.store.add_rejection(
            Rejection(
                endpoint=endpoint,
                method=request.method,
                status=status,
                reason=reason,
                received_at=now,
                failed=[f.as_json() for f in failed or ()],
                excerpt=redact(_excerpt(request), self.settings.secrets),
            )
        )


def _refuse_by_fault(index: int, result: Any, payload: Payload) -> FailedRecord:
    if isinstance(result, FailedRecord):
        return result
    insert_id = getattr(result, "insert_id", None) or ""
    return FailedRecord(index, insert_id, "", "refused by an injected partial-failure fault")


#: Fields whose values are credentials, in a query string or a form body.
_SECRET_FIELDS = re.compile(r"((?:^|[?&\s])(?:api_key|api_secret|secret|password|key)=)[^&\s]*")


def redact(text: str, secrets: frozenset[str] = frozenset()) -> str:
    """``text`` with credential fields and every configured secret blanked out.

    >>> redact("POST /import?api_key=s3cret&verbose=1 [...]")
    'POST /import?api_key=[redacted]&verbose=1 [...]'
    """
    text = _SECRET_FIELDS.sub(r"\1[redacted]", text)
    for secret in sorted(secrets, key=len, reverse=True):
        for part in {secret, *secret.split(":", 1)[1:]}:  # a service account's password too
            if len(part) >= 4:
                text = text.replace(part, "[redacted]")
    return text


def _excerpt(request: WireRequest) -> str:
    """The start of a refused request, readable in ``GET /_mixtrack/rejected``."""
    body = request.body
    if body[:2] == b"\x1f\x8b":
        shown = f"<{len(body)} bytes of gzip>"
    else:
        shown = body[:300].decode("utf-8", "replace") + ("..." if len(body) > 300 else "")
    return f"{request.method} /{request.path.strip('/')}?{request.query} {shown}".strip()
