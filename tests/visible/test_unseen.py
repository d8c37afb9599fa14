"""Rendered but never seen: the audit figure, its text, and the collector's audit answer."""

from __future__ import annotations

from typing import Any

import httpx

from mixtrack.audit import AuditOptions, run_audit, unseen
from mixtrack.exposure import EXPOSURE_EVENT, RENDER_EVENT


def ev(name: str, who: str, experiment: str = "offer", variant: str = "discount", **extra: Any):
    props = {"distinct_id": who, "Experiment name": experiment, "Variant name": variant}
    return {"event": name, "properties": props | extra}


STREAM = [
    ev(RENDER_EVENT, "$device:a"),
    ev(RENDER_EVENT, "$device:b", variant="control"),
    ev(RENDER_EVENT, "$device:c"),
    ev(RENDER_EVENT, "$device:d", experiment="banner", variant="on"),
    # a logs in after the render and sees the variant as user-1 (the login as the web layer
    # sends it: both ID-merge systems read it)
    {
        "event": "$identify",
        "properties": {
            "distinct_id": "user-1",
            "$anon_distinct_id": "$device:a",
            "$device_id": "a",
            "$user_id": "user-1",
        },
    },
    ev(EXPOSURE_EVENT, "user-1", **{"Exposure mode": "visible"}),
    ev(EXPOSURE_EVENT, "$device:d", experiment="banner", variant="on"),
    ev(EXPOSURE_EVENT, "$device:z", experiment="render_only", variant="x"),  # exposed at render
    ev("Viewed page", "$device:b"),
]


def test_people_rendered_and_never_seen_per_experiment():
    found = unseen(STREAM)
    assert sorted(found) == ["banner", "offer"]  # render-time experiments have no renders
    offer = found["offer"]
    assert (offer.rendered, offer.seen, offer.never_seen) == (3, 1, 2)
    assert dict(offer.by_variant) == {"control": 1, "discount": 1}
    assert round(offer.share, 4) == 0.6667
    assert found["banner"].never_seen == 0 and found["banner"].share == 0.0


def test_the_audit_text_and_json_carry_the_figure():
    result = run_audit(STREAM, AuditOptions())
    assert result.as_json()["unseen"]["offer"] == {
        "rendered": 3,
        "seen": 1,
        "never_seen": 2,
        "share": 2 / 3,
        "by_variant": {"control": 1, "discount": 1},
    }
    assert "offer: 2 of 3 rendered user(s) never saw it (66.7%)" in result.text()
    one = run_audit(STREAM, AuditOptions(experiment="banner"))
    assert list(one.as_json()["unseen"]) == ["banner"]
    assert "never saw it" not in run_audit(STREAM[5:], AuditOptions()).text()


def test_the_collector_audit_answers_with_it(mixtrack_collector, mixtrack_client):
    for event in STREAM:
        props = dict(event["properties"])
        mixtrack_client.track(props.pop("distinct_id"), event["event"], props)
    assert mixtrack_client.flush(timeout=10)
    answer = httpx.get(mixtrack_collector.url + "/_mixtrack/audit", timeout=10).json()
    assert answer["unseen"]["offer"]["never_seen"] == 2
    assert "Rendered but never seen" in answer["text"]
