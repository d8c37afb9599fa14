"""Mixpanel's flags: the real SDK loading definitions from an HTTPS server on 127.0.0.1."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from mixpanel import Mixpanel
from mixpanel.flags.types import LocalFlagsConfig, SelectedVariant
from mixtrack_flags.mixpanel import MixpanelFlags

from ._support import LocalServer, assert_exposed_once, experiments_for, exposures, render

DEFINITIONS = {
    "flags": [
        {
            "id": "f1",
            "name": "Checkout",
            "key": "checkout",
            "status": "active",
            "project_id": 1,
            "context": "distinct_id",
            "experiment_id": "exp-1",
            "is_experiment_active": True,
            "ruleset": {
                "rollout": [{"rollout_percentage": 0.7}],
                "variants": [
                    {"key": "control", "value": "blue", "is_control": True, "split": 0.5},
                    {"key": "Treatment B", "value": "green", "is_control": False, "split": 0.5},
                ],
                "test": {"users": {"qa-1": "Treatment B"}},
            },
        }
    ]
}


class RecordingConsumer:
    """mixpanel-python's consumer interface: what the SDK itself would send."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send(self, endpoint: str, json_message: str, api_key: Any = None, api_secret: Any = None):
        self.messages.append(json.loads(json_message))


@pytest.fixture
def definitions_server(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[LocalServer]:
    """The SDK only fetches over https://{api_host}: serve it with a throw-away CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # httpx trusts it (trust_env)
    body = json.dumps(DEFINITIONS).encode()
    with LocalServer({"/flags/definitions": (200, body)}, ssl_context=context) as server:
        yield server


@pytest.fixture
def consumer() -> RecordingConsumer:
    return RecordingConsumer()


@pytest.fixture
def mixpanel(definitions_server: LocalServer, consumer: RecordingConsumer) -> Iterator[Mixpanel]:
    config = LocalFlagsConfig(api_host=definitions_server.host, enable_polling=False)
    mp = Mixpanel("test-token", consumer=consumer, local_flags_config=config)
    mp.local_flags.start_polling_for_definitions()
    assert mp.local_flags.are_flags_ready()
    yield mp
    mp.local_flags.shutdown()


def split(flags: MixpanelFlags) -> tuple[list[str], list[str]]:
    inside, outside = [], []
    for n in range(30):
        user = f"user-{n}"
        (inside if flags.evaluate(user, "checkout", {}).in_experiment else outside).append(user)
    return inside, outside


def test_definitions_come_from_the_local_server(definitions_server, mixpanel):
    assert [r["path"] for r in definitions_server.requests] == ["/flags/definitions"]


def test_evaluation_sends_nothing(events, mixpanel, consumer):
    experiments = experiments_for(events, MixpanelFlags(mixpanel.local_flags))
    for n in range(10):
        experiments.variant(f"user-{n}", "checkout", {"plan": "pro"})
    assert consumer.messages == []  # the SDK's own $experiment_started: not sent
    assert exposures(events) == []


def test_render_exposes_once_with_names_unchanged(events, mixpanel, consumer):
    flags = MixpanelFlags(mixpanel.local_flags)
    inside, outside = split(flags)
    assert inside and outside  # 70% rollout
    experiments = experiments_for(events, flags)
    shown = {user: render(experiments, user, "checkout", times=3) for user in inside[:8]}
    assert {v.name for v in shown.values()} == {"control", "Treatment B"}
    assert len(exposures(events)) == 8
    user, variant = next(iter(shown.items()))
    assert variant.value == {"control": "blue", "Treatment B": "green"}[variant.name or ""]
    assert_exposed_once(events, user, "checkout", variant.name or "", "mixpanel", **{
        "$experiment_id": "exp-1",
        "$is_experiment_active": True,
        "$experiment_type": "feature_flag",
    })  # fmt: skip
    assert consumer.messages == []


def test_users_outside_the_rollout_and_unknown_flags(events, mixpanel):
    flags = MixpanelFlags(mixpanel.local_flags)
    _, outside = split(flags)
    experiments = experiments_for(events, flags)
    found = [experiments.variant(outside[0], "checkout"), experiments.variant("u", "nope")]
    assert [(v.name, v.reason) for v in found] == [
        (None, "no_rollout_match"),
        (None, "flag_not_found"),
    ]
    assert not any(v.expose() for v in found)
    assert exposures(events) == []


def test_qa_testers_are_marked(events, mixpanel):
    variant = render(
        experiments_for(events, MixpanelFlags(mixpanel.local_flags)), "qa-1", "checkout"
    )
    assert variant == "Treatment B"
    assert_exposed_once(events, "qa-1", "checkout", "Treatment B", "mixpanel", **{
        "$is_qa_tester": True})  # fmt: skip


def test_what_the_sdk_does_by_default(mixpanel, consumer):
    """Each get_variant call tracks $experiment_started, rendered or not."""
    for _ in range(3):
        mixpanel.local_flags.get_variant(
            "checkout", SelectedVariant(variant_value=None), {"distinct_id": "qa-1"}
        )
    assert [m["event"] for m in consumer.messages] == ["$experiment_started"] * 3
