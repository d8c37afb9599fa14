"""The same off-plan event gets the same reason from the client, the collector and the audit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

import mixtrack
from mixtrack.cli import main
from mixtrack.plan import Plan
from mixtrack.testing import Collector, capture

DEMO_PLAN = Path(__file__).resolve().parents[2] / "mixtrack" / "demo" / "plan"
PLAN = Plan.load(DEMO_PLAN)

#: (event, properties, the reasons every part must give)
OFF_PLAN = [
    (
        "Viewd product",
        {"product": "pro", "price": 29.0},
        ["unplanned_event: 'Viewd product' is not in the plan (closest: 'Viewed product')"],
    ),
    (
        "Viewed product",
        {"product": "pro", "price": "29"},
        ["wrong_type: 'price' must be number, got string"],
    ),
    (
        "$experiment_started",
        {"Experiment name": "pricing_page_layout", "Variant name": "table"},
        ["value_not_allowed: 'Variant name' must be one of 'grid', 'list', got 'table'"],
    ),
]
ON_PLAN = ("Viewed product", {"product": "pro", "price": 29.0})


@pytest.mark.parametrize(("event", "properties", "reasons"), OFF_PLAN)
def test_a_strict_client_refuses_the_event_naming_event_and_rule(event, properties, reasons):
    events = capture(plan=DEMO_PLAN)
    with pytest.raises(mixtrack.OffPlanError) as raised:
        events.client.track("u1", event, properties)
    assert isinstance(raised.value, mixtrack.ValidationError)
    assert raised.value.event == event
    assert [v.reason for v in raised.value.violations] == reasons
    assert str(raised.value) == f"{event!r} breaks the tracking plan: {reasons[0]}"
    events.client.track("u1", *ON_PLAN)  # nothing refused was queued; this one was
    assert [e["properties"]["price"] for e in events.named("Viewed product")] == [29.0]
    assert event == "Viewed product" or events.named(event) == []


def test_a_production_client_counts_logs_and_sends_or_drops(caplog):
    caplog.set_level(logging.WARNING, logger="mixtrack")
    sending = capture(plan=DEMO_PLAN, invalid="drop")
    dropping = capture(plan=DEMO_PLAN, invalid="drop", off_plan="drop")
    for events in (sending, dropping):
        for event, properties, _ in OFF_PLAN:
            events.client.track("u1", event, properties)
            events.client.track("u1", event, properties)  # logged once
        events.client.track("u1", *ON_PLAN)
        assert events.client.stats().off_plan == 6
    assert len(sending.named("Viewd product")) == 2 and len(sending.named("Viewed product")) == 3
    assert dropping.named("Viewd product") == [] and len(dropping.named("Viewed product")) == 1
    lines = [r.getMessage() for r in caplog.records if "breaks the tracking plan" in r.getMessage()]
    assert len(lines) == 6  # each (event, reasons) once, for each client
    for _, _, reasons in OFF_PLAN:
        assert any(reasons[0] in line and "sent anyway" in line for line in lines)
        assert any(reasons[0] in line and "dropped (off_plan='drop')" in line for line in lines)


@pytest.mark.mixtrack_plan(str(DEMO_PLAN))
def test_the_pytest_fixtures_take_the_plan(mixtrack_events):
    mixtrack_events.client.track("u1", *ON_PLAN)
    with pytest.raises(mixtrack.OffPlanError, match="wrong_type: 'price'"):
        mixtrack_events.client.track("u1", "Viewed product", {"product": "pro", "price": "29"})


@pytest.fixture(scope="module")
def planned_collector():
    with Collector(plan=DEMO_PLAN) as collector:
        with mixtrack.Client("t", api_host=collector.url) as client:
            for event, properties, _ in OFF_PLAN:
                client.track("u1", event, properties)
            client.track("u1", *ON_PLAN)
            assert client.flush(timeout=10)
        yield collector


def test_the_collector_marks_each_event_and_filters_off_plan_ones(planned_collector):
    base = f"{planned_collector.url}/_mixtrack/events"
    items = httpx.get(base, params={"meta": "1"}, trust_env=False).json()["events"]
    assert [(i["event"], i["plan"]["reasons"]) for i in items] == [
        *[(event, reasons) for event, _, reasons in OFF_PLAN],
        ("Viewed product", []),
    ]
    assert [i["plan"]["ok"] for i in items] == [False, False, False, True]
    off = httpx.get(base, params={"off_plan": "1", "meta": "1"}, trust_env=False).json()
    assert off["count"] == off["total"] == 3
    assert all(not i["plan"]["ok"] for i in off["events"])
    page = httpx.get(base, params={"off_plan": "1", "limit": "1", "offset": "2"}, trust_env=False)
    assert [i["event"] for i in page.json()["events"]] == ["$experiment_started"]
    assert "plan" not in page.json()["events"][0]  # without meta=1, events as stored


def test_the_collectors_audit_route_and_live_view_card_carry_the_plan(planned_collector):
    answer = httpx.get(f"{planned_collector.url}/_mixtrack/audit", trust_env=False).json()
    planned = [f for f in answer["findings"] if f["code"].startswith("off_plan")]
    assert {f["severity"] for f in planned} == {"warning"}
    assert sum(f["count"] for f in planned) == 3
    assert "off_plan_property" in answer["text"]


def test_off_plan_without_a_plan_is_a_clear_400(mixtrack_collector):
    answer = httpx.get(f"{mixtrack_collector.url}/_mixtrack/events?off_plan=1", trust_env=False)
    assert answer.status_code == 400
    assert "start the collector with --plan" in answer.json()["error"]


def test_the_audit_reports_the_same_reasons(planned_collector, capsys):
    url = planned_collector.url
    assert main(["audit", "--collector", url, "--plan", str(DEMO_PLAN), "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    planned = [f for f in findings if f["code"].startswith("off_plan")]
    assert {(f["code"], f["severity"]) for f in planned} == {
        ("off_plan_event", "warning"),
        ("off_plan_property", "warning"),
    }
    for _, _, reasons in OFF_PLAN:
        assert any(reasons[0] in f["message"] for f in planned), reasons
    assert main(["audit", "--collector", url, "--plan", str(DEMO_PLAN), "--strict-plan"]) == 1
    out = capsys.readouterr().out
    assert "off_plan_event" in out and "FAIL" in out
    assert main(["audit", "--collector", url, "--plan", str(DEMO_PLAN / "nope")]) == 2
    assert "no tracking plan at" in capsys.readouterr().err


def test_collector_cli_refuses_a_bad_plan(tmp_path, capsys):
    (tmp_path / "event").mkdir()
    (tmp_path / "event" / "x.json").write_text("{")
    code = main(["collector", "--port", "0", "--db", ":memory:", "--plan", str(tmp_path)])
    assert code == 2
    assert "is not JSON" in capsys.readouterr().err


def test_the_asyncio_client_checks_the_same_way():
    import asyncio

    async def run() -> int:
        async with mixtrack.AsyncClient(
            "t", api_host="http://127.0.0.1:9", plan=DEMO_PLAN, invalid="raise", disabled=True
        ) as strict:
            with pytest.raises(mixtrack.OffPlanError, match=OFF_PLAN[1][2][0]):
                strict.track("u1", OFF_PLAN[1][0], OFF_PLAN[1][1])
            strict.track("u1", *ON_PLAN)
        async with mixtrack.AsyncClient(
            "t", api_host="http://127.0.0.1:9", plan=DEMO_PLAN, disabled=True
        ) as lenient:
            lenient.track("u1", OFF_PLAN[0][0], OFF_PLAN[0][1])
            return lenient.stats().off_plan

    assert asyncio.run(run()) == 1


def test_the_plan_options_come_from_the_environment_too():
    config = mixtrack.Config.from_env(
        {"MIXTRACK_TOKEN": "t", "MIXTRACK_PLAN": str(DEMO_PLAN), "MIXTRACK_OFF_PLAN": "DROP"}
    )
    assert (config.plan, config.off_plan) == (str(DEMO_PLAN), "drop")
    with pytest.raises(mixtrack.ConfigError, match="off_plan must be one of"):
        mixtrack.Config(token="t", off_plan="ignore")
    with pytest.raises(mixtrack.PlanError, match="no tracking plan at"):
        mixtrack.Client("t", api_host="http://127.0.0.1:9", plan="/nowhere", disabled=True)
