"""Loading a plan: the folder and the Lexicon bulk file are the same plan; bad files say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixtrack import PlanError
from mixtrack.cli import main
from mixtrack.demo import shop_events
from mixtrack.plan import Entry, Plan

ROOT = Path(__file__).resolve().parents[2]
DEMO_PLAN = ROOT / "mixtrack" / "demo" / "plan"


def test_folder_and_bulk_file_load_the_same_plan(tmp_path):
    folder = Plan.load(DEMO_PLAN)
    folder.write(tmp_path / "bulk.json")
    bulk = Plan.load(tmp_path / "bulk.json")
    assert bulk.entries == folder.entries
    assert set(folder.events) == shop_events.EVENTS  # the generated module has them all
    assert folder.profile is not None and folder.profile.name == "$user"
    body = json.loads((tmp_path / "bulk.json").read_text())
    assert {e["entityType"] for e in body["entries"]} == {"event", "profile"}
    assert all(set(e) == {"entityType", "name", "schemaJson"} for e in body["entries"])


def test_writing_an_unchanged_plan_changes_no_byte(tmp_path):
    Plan.load(DEMO_PLAN).write(tmp_path / "copy")
    for original in sorted(DEMO_PLAN.rglob("*.json")):
        copy = tmp_path / "copy" / original.relative_to(DEMO_PLAN)
        assert copy.read_bytes() == original.read_bytes()


def test_names_that_are_not_file_names_survive_the_folder_form(tmp_path):
    plan = Plan([Entry("event", "a/b %c", {}), Entry("event", ".hidden", {})])
    plan.write(tmp_path / "odd")
    assert sorted(p.name for p in (tmp_path / "odd" / "event").iterdir()) == [
        "%2Ehidden.json",
        "a%2Fb %25c.json",
    ]
    assert set(Plan.load(tmp_path / "odd").events) == {"a/b %c", ".hidden"}


def _write(folder: Path, name: str, text: str) -> Path:
    file = folder / "event" / f"{name}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return folder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "is not JSON"),
        ("[]", "a schema must be a JSON object, got list"),
        ('{"properties": []}', "'properties' must be an object, got list"),
        ('{"required": ["plan"], "properties": {}}', "'plan' is required but not among"),
        ('{"properties": {"plan": {"type": "text"}}}', "has type 'text'"),
        ('{"properties": {"plan": {"minLength": "x"}}}', "not a draft-07 JSON Schema"),
        ('{"type": "array"}', "of type 'object', got 'array'"),
        ('{"metadata": {"com.mixpanel": {"hidden": "yes"}}}', "['hidden'] must be true or false"),
        ('{"additionalProperties": "no"}', "'additionalProperties' must be true or false or an"),
    ],
)
def test_a_bad_schema_file_is_refused_naming_file_and_field(tmp_path, text, expected):
    _write(tmp_path, "Signed up", text)
    with pytest.raises(PlanError) as raised:
        Plan.load(tmp_path)
    assert expected in str(raised.value)
    assert "Signed up" in str(raised.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"entries": "x"}, "a bulk plan file is"),
        ({"entries": [{"entityType": "cohort", "name": "x", "schemaJson": {}}]}, "entityType"),
        ({"entries": [{"entityType": "event", "name": "", "schemaJson": {}}]}, "name must be"),
        ({"entries": [{"entityType": "profile", "name": "u", "schemaJson": {}}]}, "'$user'"),
        (
            {"entries": [{"entityType": "event", "name": "a", "schemaJson": {}}] * 2},
            "given twice",
        ),
    ],
)
def test_a_bad_bulk_file_is_refused(tmp_path, body, expected):
    file = tmp_path / "plan.json"
    file.write_text(json.dumps(body))
    with pytest.raises(PlanError) as raised:
        Plan.load(file)
    assert expected in str(raised.value)


def test_no_plan_at_the_path(tmp_path):
    with pytest.raises(PlanError, match="no tracking plan at"):
        Plan.load(tmp_path / "missing")
    with pytest.raises(PlanError, match="holds no event/ or profile/ folder"):
        Plan.load(tmp_path)


def test_show_explains_the_plan_and_a_bad_plan_exits_2(tmp_path, capsys):
    assert main(["plan", "show", str(DEMO_PLAN), "Viewed product"]) == 0
    out = capsys.readouterr().out
    assert "Viewed product — One product's page was shown." in out
    assert "price: number, required" in out
    _write(tmp_path, "Signed up", "{not json")
    assert main(["plan", "show", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mixtrack plan show: ") and "is not JSON" in err
    assert "Traceback" not in err
