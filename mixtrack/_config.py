"""Client configuration: one frozen value, every field also readable from ``MIXTRACK_*``.

Precedence, for ``Client(...)``, ``AsyncClient(...)`` and ``Config.from_env(...)``: an argument
passed in code always wins; an option left out comes from ``MIXTRACK_<OPTION>`` when that is
set (and not empty); otherwise the field's default applies. ``Config(...)`` itself is a plain
value and reads nothing from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from mixtrack._hints import warn_lookalikes
from mixtrack.errors import ConfigError
from mixtrack.protocol.limits import MAX_BATCH, MAX_BATCH_BYTES, RETRY_INITIAL, RETRY_MAX

if TYPE_CHECKING:
    from mixtrack.plan import Plan

__all__ = ["BeforeSend", "Config", "DropCallback"]

Endpoint = Literal["import", "track"]
Invalid = Literal["drop", "raise"]
OffPlan = Literal["send", "drop"]
Overflow = Literal["drop_newest", "drop_oldest", "block"]
FsyncPolicy = Literal["none", "batch", "event"]
DropCallback = Callable[[str, Mapping[str, Any], str], None]
"""``on_drop(endpoint, message, reason)``: called on the worker or caller thread for each
message that will never be delivered (queue full, retries exhausted, shutdown)."""
BeforeSend = Callable[[dict[str, Any]], "dict[str, Any] | None"]
"""``before_send(message)``: called in ``track()`` and the other calls with each message
before it is queued; returns it (changed or not), or None to leave it out."""


def _positive(kind: type[int] | type[float]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
            raise ConfigError(f"{attribute.name} must be a positive {kind.__name__}, got {value!r}")

    return check


def _one_of(*choices: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise ConfigError(f"{attribute.name} must be one of {choices}, got {value!r}")

    return check


def _token(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"token must be a non-empty str (your Mixpanel project token), got {value!r}"
        )


def _api_host(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(
            f"api_host must be a URL starting with http:// or https://, got {value!r} "
            "(for example 'https://api-eu.mixpanel.com' or 'http://127.0.0.1:8765')"
        )


def _strip_slash(value: Any) -> Any:
    return value.rstrip("/") if isinstance(value, str) else value


def _batch_size(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    _positive(int)(_, attribute, value)
    if value > MAX_BATCH:
        raise ConfigError(f"batch_size must be at most {MAX_BATCH} (Mixpanel's limit), got {value}")


@attrs.frozen(kw_only=True)
class Config:
    """Everything a :class:`mixtrack.Client` can be told. ``Client(...)``,
    ``AsyncClient(...)`` and ``Config.from_env()`` take each field not passed in code from
    ``MIXTRACK_<FIELD>`` when that is set, else from its default; ``Config(...)`` itself is a
    plain value and reads nothing.

    >>> Config(token="PROJECT_TOKEN", api_host="http://127.0.0.1:8765", batch_size=500)
    ... # doctest: +ELLIPSIS
    Config(token='PROJECT_TOKEN', ...)
    """

    token: str = attrs.field(validator=_token)
    #: Base URL of Mixpanel (``https://api-eu.mixpanel.com`` for EU residency) or a collector.
    api_host: str = attrs.field(
        default="https://api.mixpanel.com", validator=_api_host, converter=_strip_slash
    )
    #: Project secret for ``/import`` (Basic auth ``secret:``); without it the token is used.
    api_secret: str | None = attrs.field(default=None, repr=False)
    #: Service account (``user``, ``secret``) with ``project_id``: the other /import credential.
    service_account: tuple[str, str] | None = attrs.field(default=None, repr=False)
    project_id: str | None = None
    #: ``"import"`` (default: strict per-record errors, any time after 1971) or ``"track"``.
    endpoint: Endpoint = attrs.field(default="import", validator=_one_of("import", "track"))
    batch_size: int = attrs.field(default=MAX_BATCH, validator=_batch_size)
    max_batch_bytes: int = attrs.field(default=MAX_BATCH_BYTES, validator=_positive(int))
    #: Requests in flight at once: hides a distant collector's latency.
    max_in_flight: int = attrs.field(default=4, validator=_positive(int))
    #: Longest time an event waits in the queue before a partial batch is sent (seconds).
    flush_interval: float = attrs.field(default=1.0, validator=_positive(float), converter=float)
    #: Bounds of what is pending (queued and in flight): messages, and the bytes of their
    #: JSON (each message is held as its serialized record: ~250 bytes for a small event).
    max_queue_events: int = attrs.field(default=100_000, validator=_positive(int))
    max_queue_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=_positive(int))
    #: What a full queue does to a new event: drop it, drop the oldest queued one, or block.
    overflow: Overflow = attrs.field(
        default="drop_newest", validator=_one_of("drop_newest", "drop_oldest", "block")
    )
    #: With ``overflow="block"``: the longest a caller waits for room before the event drops.
    block_timeout: float = attrs.field(default=1.0, validator=_positive(float), converter=float)
    on_drop: DropCallback | None = attrs.field(default=None, eq=False, repr=False)
    #: Changes or leaves out each message before it is queued (PII scrubbing, sampling); see
    #: ``mixtrack._processors``. What it breaks or raises on is dropped and counted.
    before_send: BeforeSend | None = attrs.field(default=None, eq=False, repr=False)
    #: Retry budget of one batch, in seconds from its first attempt: a batch is retried until
    #: then (or until the queue's bound makes room by the overflow policy), then dropped.
    max_elapsed: float = attrs.field(default=600.0, validator=_positive(float), converter=float)
    #: An optional cap on the attempts of one batch; None (default): only time bounds them.
    max_attempts: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_positive(int))
    )
    #: Backoff after a 429, 5xx or network error, as Mixpanel advises: from
    #: ``backoff_initial`` seconds, doubling up to ``max_backoff``, with jitter. A longer
    #: ``Retry-After`` is still honoured.
    backoff_initial: float = attrs.field(
        default=RETRY_INITIAL, validator=_positive(float), converter=float
    )
    max_backoff: float = attrs.field(default=RETRY_MAX, validator=_positive(float), converter=float)
    request_timeout: float = attrs.field(default=10.0, validator=_positive(float), converter=float)
    gzip: bool = True
    #: Budget of the atexit drain and of ``shutdown()`` without an argument (seconds).
    shutdown_timeout: float = attrs.field(default=5.0, validator=_positive(float), converter=float)
    verify_tls: bool = True
    #: Directory of the durable spool: messages are written there before ``track()``
    #: returns and survive the process being killed. None (default): memory only.
    spool_dir: str | None = None
    #: Disk bound of the spool (bytes); the overflow policy applies there.
    spool_max_bytes: int = attrs.field(default=1024**3, validator=_positive(int))
    #: ``"none"`` (survives a killed process), ``"batch"`` (fsync before each batch is
    #: sent) or ``"event"`` (fsync on every message: survives power loss, costs ~1 ms each).
    spool_fsync: FsyncPolicy = attrs.field(
        default="none", validator=_one_of("none", "batch", "event")
    )
    spool_segment_bytes: int = attrs.field(default=8 * 1024 * 1024, validator=_positive(int))
    debug: bool = False
    #: The kill switch: every call validates as usual and returns; nothing is queued or
    #: sent and no thread starts (``stats().disabled`` is True). For tests and local runs.
    disabled: bool = False
    #: A value that cannot be sent (a property JSON cannot carry, a bad event name or
    #: distinct_id): ``"drop"`` leaves it out, logs a WARNING and counts it in
    #: ``stats().invalid``; ``"raise"`` raises :class:`~mixtrack.ValidationError` at the call.
    invalid: Invalid = attrs.field(default="drop", validator=_one_of("drop", "raise"))
    #: A tracking plan (a folder of JSON Schemas or a Lexicon bulk file, see
    #: :mod:`mixtrack.plan`) that every event is checked against: an off-plan event raises
    #: :class:`~mixtrack.OffPlanError` with ``invalid="raise"``; otherwise it is counted in
    #: ``stats().off_plan`` and logged as a WARNING.
    plan: str | os.PathLike[str] | Plan | None = attrs.field(default=None, eq=False)
    #: What happens to an off-plan event when it does not raise: ``"send"`` it anyway
    #: (the default) or ``"drop"`` it.
    off_plan: OffPlan = attrs.field(default="send", validator=_one_of("send", "drop"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """A config from keyword arguments, then ``MIXTRACK_*`` variables, then defaults.

        >>> Config.from_env({"MIXTRACK_TOKEN": "tok", "MIXTRACK_BATCH_SIZE": "500"}).batch_size
        500
        """
        env = os.environ if environ is None else environ
        names = [field.name for field in attrs.fields(cls)]
        warn_lookalikes(env, names)
        # None for an option that cannot be None (token, api_host...) means "not given", as
        # framework settings pass it; where None is a value (api_secret, spool_dir) it wins
        overrides = {
            name: value
            for name, value in overrides.items()
            if value is not None or _NULLABLE.get(name, True)
        }
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            variable = f"MIXTRACK_{field.name.upper()}"
            raw = env.get(variable)
            if field.name in overrides or field.name in _CALLBACKS or raw is None:
                continue
            if not raw.strip():
                if field.name == "token":
                    raise ConfigError(
                        f"{variable} is set but empty: set it to your Mixpanel project token, "
                        "or pass the token in code"
                    )
                continue  # an empty variable counts as unset, as in OpenTelemetry
            values[field.name] = _parse(field, raw)
        values.update(overrides)
        if values.get("token") is None:
            raise ConfigError(
                "no token: pass your Mixpanel project token (Client('PROJECT_TOKEN')) "
                "or set the environment variable MIXTRACK_TOKEN"
            )
        try:
            return cls(**values)
        except ConfigError as exc:
            name = str(exc).split(" ", 1)[0]
            if name in overrides or name not in values:
                raise
            variable = f"MIXTRACK_{name.upper()}"
            raise ConfigError(f"{exc} (from {variable}={env[variable]!r})") from None


_CALLBACKS = frozenset({"on_drop", "before_send"})  # set in code, never from the environment
_NULLABLE = {field.name: "None" in str(field.type) for field in attrs.fields(Config)}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _parse(field: attrs.Attribute[Any], raw: str) -> Any:
    name = field.name
    text = str(field.type)
    where = f"MIXTRACK_{name.upper()}={raw!r}"
    value = raw.strip()
    if text.endswith("| None") and value.lower() == "none":
        return None
    kind = text.removesuffix(" | None")
    if name == "service_account":
        user, sep, secret = value.partition(":")
        if not sep or not user or not secret:
            raise ConfigError(f"{where}: expected 'user:secret'")
        return (user, secret)
    if kind == "bool":
        lowered = value.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{where}: expected true/false (or 1/0, yes/no, on/off)")
    if kind in ("int", "float"):
        try:
            return int(value) if kind == "int" else float(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a number") from None
    if kind in ("Endpoint", "Overflow", "FsyncPolicy", "Invalid", "OffPlan"):
        return value.lower()
    return value
