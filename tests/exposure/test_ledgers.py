"""Ledgers: MemoryLedger, RedisLedger on a real redis-server, and the documented fallback."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import redis

from mixtrack.exposure import Experiments, Ledger, MemoryLedger, RedisLedger
from mixtrack.flags import StaticFlags

CHECKOUT = StaticFlags({"checkout_redesign": {"control": 50, "treatment": 50}})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_ledger_adds_once_and_releases_only_its_own() -> None:
    ledger = MemoryLedger()
    assert isinstance(ledger, Ledger)
    assert ledger.add("k", "mine") is True
    assert ledger.add("k", "theirs") is False
    assert ledger.get("k") == "mine"
    assert ledger.release("k", "theirs") is False
    assert ledger.release("k", "mine") is True
    assert ledger.get("k") is None
    assert ledger.add("k", "theirs") is True


def test_memory_ledger_forgets_the_least_recently_used_key() -> None:
    ledger = MemoryLedger(max_keys=3)
    for key in "abc":
        ledger.add(key, key)
    ledger.get("a")  # a is now the most recently used
    ledger.add("d", "d")
    assert len(ledger) == 3
    assert ledger.get("b") is None
    assert [ledger.get(key) for key in "acd"] == ["a", "c", "d"]


def test_memory_ledger_expires_entries() -> None:
    clock = FakeClock()
    ledger = MemoryLedger(ttl=60, clock=clock)
    ledger.add("k", "v")
    clock.now += 59
    assert ledger.get("k") == "v"
    assert ledger.add("k", "w") is False
    clock.now += 1
    assert ledger.get("k") is None
    assert ledger.add("k", "w") is True


@pytest.mark.parametrize("options", [{"max_keys": 0}, {"ttl": 0}, {"ttl": -1}])
def test_memory_ledger_refuses_nonsense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MemoryLedger(**options)


def test_memory_ledger_has_one_winner_per_key_under_threads() -> None:
    ledger = MemoryLedger()
    wins: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(32)

    def worker(n: int) -> None:
        start.wait()
        for key in range(2000):
            if ledger.add(f"k{key}", f"t{n}"):
                with lock:
                    wins.append(f"k{key}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == sorted(f"k{key}" for key in range(2000))


def test_redis_ledger_on_a_real_server(redis_server: Any) -> None:
    ledger = RedisLedger(redis_server.url, ttl=3600, prefix="test:")
    assert isinstance(ledger, Ledger)
    assert ledger.add("k", "mine") is True
    assert ledger.add("k", "theirs") is False
    assert ledger.get("k") == "mine"
    assert ledger.release("k", "theirs") is False
    assert ledger.get("k") == "mine"
    assert ledger.release("k", "mine") is True
    assert ledger.get("k") is None

    ledger.add("k", "again")
    raw = redis.Redis.from_url(redis_server.url)
    assert raw.get("test:k") == b"again"
    assert 0 < raw.pttl("test:k") <= 3600 * 1000
    ledger.close()

    forever = RedisLedger(raw, ttl=None, prefix="other:")
    assert forever.add("k", "v") is True  # another prefix, another namespace
    assert raw.pttl("other:k") == -1
    assert "other:" in repr(forever)
    raw.close()


def test_redis_ledger_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="ttl"):
        RedisLedger("redis://127.0.0.1:1/0", ttl=0)


def test_redis_down_falls_back_to_memory_and_is_counted(
    redis_server: Any, tracker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    experiments = Experiments(
        tracker, CHECKOUT, ledger=RedisLedger(redis_server.url), ledger_retry_interval=0
    )
    assert experiments.variant("user-1", "checkout_redesign").expose() is True

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="mixtrack.exposure"):
        during = experiments.variant("user-2", "checkout_redesign")  # never raises
        assert during.name in ("control", "treatment")
        assert during.expose() is True
        assert experiments.variant("user-2", "checkout_redesign").expose() is False
    assert "using the 'memory' fallback" in caplog.text
    stats = experiments.stats()
    assert stats.ledger_errors > 0
    assert stats.ledger_fallbacks >= stats.ledger_errors

    redis_server.start()  # the same port, empty (no persistence): the backend comes back
    # user-2 was exposed by this process during the outage: still not a second time.
    assert experiments.variant("user-2", "checkout_redesign").expose() is False
    assert experiments.variant("user-3", "checkout_redesign").expose() is True
    assert [call["distinct_id"] for call in tracker.calls] == ["user-1", "user-2", "user-3"]
    assert "answers again" in caplog.text


@pytest.mark.parametrize(("policy", "sent"), [("skip", 0), ("expose", 2)])
def test_other_fallback_policies(redis_server: Any, tracker: Any, policy: Any, sent: int) -> None:
    experiments = Experiments(
        tracker, CHECKOUT, ledger=RedisLedger(redis_server.url), on_ledger_error=policy
    )
    redis_server.stop()
    results = [experiments.variant("user-1", "checkout_redesign").expose() for _ in range(2)]
    assert results == [policy == "expose"] * 2
    assert len(tracker.calls) == sent


def test_while_down_the_backend_is_left_alone_for_the_retry_interval(
    redis_server: Any, tracker: Any
) -> None:
    experiments = Experiments(
        tracker, CHECKOUT, ledger=RedisLedger(redis_server.url), ledger_retry_interval=3600
    )
    redis_server.stop()
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout_redesign").expose()
    stats = experiments.stats()
    assert stats.ledger_errors == 1  # one failed call, then straight to the fallback
    assert stats.ledger_fallbacks > 10
    assert len(tracker.calls) == 10


def test_unknown_fallback_policy_is_refused(tracker: Any) -> None:
    with pytest.raises(ValueError, match="on_ledger_error"):
        Experiments(tracker, CHECKOUT, on_ledger_error="retry")  # type: ignore[arg-type]
