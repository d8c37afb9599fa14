"""Plan.check: one reason string per broken rule, the same wherever the check runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixtrack.plan import RULES, Entry, Plan

DEMO_PLAN = Path(__file__).resolve().parents[2] / "mixtrack" / "demo" / "plan"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Plan.load(DEMO_PLAN)


def reasons(plan: Plan, event: str, properties: dict[str, object]) -> list[str]:
    return [v.reason for v in plan.check(event, properties)]


def test_an_event_that_keeps_to_the_plan_has_no_violation(plan):
    sdk = {"token": "t", "distinct_id": "u1", "time": 1, "$insert_id": "x", "mp_lib": "python"}
    web = {"$browser": "Chrome", "$current_url": "https://shop/", "utm_source": "news", "ip": "1"}
    props = {**sdk, **web, "product": "pro", "price": 29.0}
    assert plan.check("Viewed product", props) == []
    assert plan.check("$identify", {"$anon_id": "a"}) == []  # Mixpanel's own, unplanned


@pytest.mark.parametrize(
    ("event", "properties", "expected"),
    [
        (
            "Viewd product",
            {},
            ["unplanned_event: 'Viewd product' is not in the plan (closest: 'Viewed product')"],
        ),
        (
            "Viewed product",
            {"product": "pro"},
            ["missing_property: 'price' is required by 'Viewed product'"],
        ),
        (
            "Viewed product",
            {"product": "pro", "price": 29, "colour": "red"},
            ["unplanned_property: 'colour' is not a property of 'Viewed product'"],
        ),
        (
            "Viewed product",
            {"product": "pro", "price": "29"},
            ["wrong_type: 'price' must be number, got string"],
        ),
        (
            "Viewed product",
            {"product": "gold", "price": 29},
            [
                "value_not_allowed: 'product' must be one of 'enterprise', 'pro', 'starter', "
                "'team', got 'gold'"
            ],
        ),
        (
            "Viewed product",
            {"product": "pro", "price": -1},
            ["invalid_value: 'price': -1 is less than the minimum of 0"],
        ),
        (
            "$experiment_started",
            {"Experiment name": "pricing_page_layout", "Variant name": "table"},
            ["value_not_allowed: 'Variant name' must be one of 'grid', 'list', got 'table'"],
        ),
    ],
)
def test_each_rule_has_its_reason(plan, event, properties, expected):
    assert reasons(plan, event, properties) == expected
    assert {v.rule for v in plan.check(event, properties)} <= set(RULES)


def test_several_violations_come_in_a_stable_order(plan):
    props = {"price": "x", "colour": "red", "Colour": "blue"}
    assert reasons(plan, "Order completed", props) == [
        "missing_property: 'product' is required by 'Order completed'",
        "missing_property: 'revenue' is required by 'Order completed'",
        "unplanned_property: 'Colour' is not a property of 'Order completed'",
        "unplanned_property: 'colour' is not a property of 'Order completed'",
        "unplanned_property: 'price' is not a property of 'Order completed'",
    ]


def test_a_dropped_event_and_the_profile():
    plan = Plan(
        [
            Entry("event", "Old event", {"metadata": {"com.mixpanel": {"dropped": True}}}),
            Entry(
                "profile",
                "$user",
                {
                    "properties": {"plan": {"type": "string"}},
                    "required": ["plan"],
                    "additionalProperties": False,
                },
            ),
        ]
    )
    assert [v.rule for v in plan.check("Old event", {})] == ["dropped_event"]
    # a $set sends some properties: only what is given is checked
    assert plan.check_profile({"$email": "a@b.c"}) == []
    assert [v.reason for v in plan.check_profile({"plan": 3, "age": 40})] == [
        "unplanned_property: 'age' is not a property of '$user'",
        "wrong_type: 'plan' must be string, got integer",
    ]


@pytest.mark.parametrize(
    "hostile",
    [
        {"price": True},
        {"price": [1] * 10_000},
        {"product": {"deep": {"er": ["x"]}}},
        {"": None},
    ],
)
def test_hostile_values_give_violations_not_exceptions(plan, hostile):
    found = plan.check("Viewed product", {"product": "pro", "price": 1.0, **hostile})
    assert found and all(len(v.reason) < 400 for v in found)
