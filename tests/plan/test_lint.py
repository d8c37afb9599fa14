"""``mixtrack plan lint``: one convention, one spelling per name, few events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixtrack.cli import main
from mixtrack.plan import Entry, Plan
from mixtrack.plan._lint import lint
from mixtrack.plan._names import follows, spell

DEMO_PLAN = Path(__file__).resolve().parents[2] / "mixtrack" / "demo" / "plan"


def events(*names: str, props: dict[str, dict[str, str]] | None = None) -> Plan:
    props = props or {}
    return Plan(
        [
            Entry("event", n, {"properties": {p: {"type": "string"} for p in props.get(n, {})}})
            for n in names
        ]
    )


@pytest.mark.parametrize(
    ("name", "convention", "ok", "respelt"),
    [
        ("added_to_cart", "snake_case", True, "added_to_cart"),
        ("Added To Cart", "snake_case", False, "added_to_cart"),
        ("Added To Cart", "title", True, "Added To Cart"),
        ("added to cart", "title", False, "Added To Cart"),
        ("addedToCart", "camel", True, "addedToCart"),
        ("added-to-cart", "camel", False, "addedToCart"),
        ("Added to cart", "sentence", True, "Added to cart"),
    ],
)
def test_conventions(name, convention, ok, respelt):
    assert follows(name, convention) is ok
    assert spell(name, convention) == respelt


def test_the_demo_plan_keeps_its_own_convention():
    plan = Plan.load(DEMO_PLAN)
    assert lint(plan, convention="sentence", property_convention="snake_case") == []
    naming = [f.names for f in lint(plan) if f.code == "naming"]
    assert ("Viewed home",) in naming
    # Mixpanel's own names are not the plan's to spell
    assert not any(n[0].startswith("$") or n[0] == "Experiment name" for n in naming)


def test_near_duplicates_case_only_properties_and_mergeable_events():
    plan = events(
        "checkout_test",
        "Checkout Test",
        "signed_up",
        "signed_upp",
        "clicked_signup_button",
        "clicked_login_button",
        props={"checkout_test": {"plan": ""}, "signed_up": {"Plan": "", "plan": ""}},
    )
    found = {(f.code, f.names) for f in lint(plan)}
    assert ("near_duplicate", ("Checkout Test", "checkout_test")) in found
    assert ("near_duplicate", ("signed_up", "signed_upp")) in found
    assert ("case_only", ("Plan", "plan")) in found
    assert ("mergeable_events", ("clicked_login_button", "clicked_signup_button")) in found
    message = next(f.message for f in lint(plan) if f.code == "mergeable_events")
    assert "one event 'clicked button' with a property for login, signup" in message


def test_lint_cli_exits_1_on_findings_and_reads_what_a_collector_received(
    tmp_path, capsys, mixtrack_collector
):
    assert (
        main(
            [
                "plan",
                "lint",
                str(DEMO_PLAN),
                "--convention",
                "sentence",
                "--property-convention",
                "snake_case",
            ]
        )
        == 0
    )
    import mixtrack

    with mixtrack.Client("t", api_host=mixtrack_collector.url) as client:
        client.track("u1", "Viewed product", {"product": "pro", "price": 29.0})
        client.track("u1", "viewed-product", {"Product": "pro"})
    capsys.readouterr()
    code = main(
        [
            "plan",
            "lint",
            str(DEMO_PLAN),
            "--collector",
            mixtrack_collector.url,
            "--convention",
            "sentence",
            "--property-convention",
            "snake_case",
            "--json",
        ]
    )
    assert code == 1
    findings = json.loads(capsys.readouterr().out)
    codes = {(f["code"], tuple(f["names"])) for f in findings}
    assert ("near_duplicate", ("Viewed product", "viewed-product")) in codes
    assert ("case_only", ("Product", "product")) in codes
    assert any(
        f["code"] == "off_plan"
        and "unplanned_event: 'viewed-product' is not in the plan" in f["message"]
        for f in findings
    )
