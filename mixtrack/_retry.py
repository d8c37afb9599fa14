"""Retry decisions, shared by the thread worker and the asyncio worker.

Retried: connection errors, timeouts, 408, 429 and 5xx. Waits use full jitter (random between
0 and an exponentially growing cap, ``max_backoff`` at most), but never less than the
collector's ``Retry-After``. A batch stops being retried when its attempts run out, or when
the next wait would end past its time budget (``max_elapsed``) or the shutdown deadline; it
is then counted as dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import tenacity

from mixtrack._config import Config
from mixtrack._wire import Answer
from mixtrack.errors import TransportError

__all__ = ["RetryableAnswer", "retry_policy"]


class RetryableAnswer(Exception):
    """Raised inside an attempt to ask tenacity for another one."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.detail)
        self.answer = answer


class _WaitRetryAfter(tenacity.wait.wait_base):
    """Full-jitter exponential backoff, raised to ``Retry-After`` when the collector sends one."""

    def __init__(self, config: Config) -> None:
        self._jitter = tenacity.wait_random_exponential(multiplier=0.2, max=config.max_backoff)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = self._jitter(retry_state)
        outcome = retry_state.outcome
        if outcome is not None and outcome.failed:
            exc = outcome.exception()
            if isinstance(exc, RetryableAnswer) and exc.answer.retry_after is not None:
                wait = max(wait, exc.answer.retry_after)
        return float(wait)


def retry_policy(
    config: Config,
    *,
    deadline: Callable[[], float | None],
    on_retry: Callable[[tenacity.RetryCallState], None],
) -> dict[str, object]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying``.

    ``deadline()`` gives the monotonic shutdown deadline, or None while the client runs:
    a wait that would end after it stops the retries at once.
    """

    class _PastDeadline(tenacity.stop.stop_base):
        """The next wait would end after the shutdown deadline or the batch's time budget."""

        def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
            upcoming = retry_state.upcoming_sleep or 0.0
            if (retry_state.seconds_since_start or 0.0) + upcoming > config.max_elapsed:
                return True
            limit = deadline()
            return limit is not None and time.monotonic() + upcoming > limit

    return {
        "retry": tenacity.retry_if_exception_type((TransportError, RetryableAnswer)),
        "stop": (
            tenacity.stop_after_attempt(config.max_attempts) | _PastDeadline()
        ),
        "wait": _WaitRetryAfter(config),
        "before_sleep": on_retry,
        "reraise": True,
    }
