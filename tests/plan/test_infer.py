"""``mixtrack plan infer``: a first plan from the demo shop's events validates those events,
and the demo's own plan holds for what the shop really sends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mixtrack
from mixtrack.audit._source import from_db
from mixtrack.cli import main
from mixtrack.plan import Plan
from mixtrack.plan._infer import infer

DEMO_PLAN = Path(__file__).resolve().parents[2] / "mixtrack" / "demo" / "plan"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """The events of 60 simulated visitors of the Django demo shop."""
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.sqlite3"
    command = [
        sys.executable,
        "-m",
        "mixtrack.cli",
        "demo",
        "--no-wait",
        "--shop",
        "django",
        "--visitors",
        "60",
        "--port",
        "0",
        "--db",
        str(db),
    ]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def test_infer_on_the_demos_data_gives_a_plan_that_validates_it(demo_db, tmp_path, capsys):
    assert main(["plan", "infer", "--db", str(demo_db), "-o", str(tmp_path / "inferred")]) == 0
    assert "event schemas from" in capsys.readouterr().out
    inferred = Plan.load(tmp_path / "inferred")
    events, _ = from_db(demo_db)
    assert len(events) > 100
    names = {e["event"] for e in events if not e["event"].startswith("$")}
    assert names <= set(inferred.events) and {"Viewed home", "Order completed"} <= names
    broken = [(e["event"], inferred.check(e["event"], e["properties"])) for e in events]
    assert [b for b in broken if b[1]] == []
    product = inferred.events["Viewed product"]
    assert product.required == ("price", "product")
    assert product.properties["price"]["type"] == "number"
    assert product.properties["product"]["enum"] == ["enterprise", "pro", "starter", "team"]
    layout = inferred.events["$experiment_started"].properties["Variant name"]
    assert layout == {"type": "string", "enum": ["grid", "list"]}


def test_the_demo_shop_keeps_to_its_hand_written_plan(demo_db):
    plan = Plan.load(DEMO_PLAN)
    events, _ = from_db(demo_db)
    broken = {
        (e["event"], v.reason) for e in events for v in plan.check(e["event"], e["properties"])
    }
    assert broken == set()


def test_infer_from_ndjson_and_a_collector(tmp_path, mixtrack_collector, capsys):
    rows = [
        {"event": "Searched", "properties": {"query": f"q{i}", "page": i % 3}} for i in range(30)
    ]
    rows.append({"event": "Searched", "properties": {"query": "q", "page": 2.5, "ref": None}})
    ndjson = tmp_path / "export.ndjson"
    ndjson.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert main(["plan", "infer", str(ndjson), "-o", str(tmp_path / "plan.json")]) == 0
    searched = Plan.load(tmp_path / "plan.json").events["Searched"]
    assert searched.required == ("page", "query")
    assert searched.properties["page"] == {"type": "number"}  # 0, 1, 2 and 2.5
    assert searched.properties["ref"] == {"type": "null"}
    assert "enum" not in searched.properties["query"]  # 31 distinct values
    with mixtrack.Client("t", api_host=mixtrack_collector.url) as client:
        for plan in ["free", "pro"] * 10:
            client.track("u1", "Signed up", {"plan": plan, "tags": ["a"]})
    assert (
        main(
            [
                "plan",
                "infer",
                "--collector",
                mixtrack_collector.url,
                "-o",
                str(tmp_path / "from-collector"),
            ]
        )
        == 0
    )
    signed = Plan.load(tmp_path / "from-collector").events["Signed up"]
    assert signed.properties["plan"] == {"type": "string", "enum": ["free", "pro"]}
    assert signed.properties["tags"] == {"type": "array", "items": {"type": "string"}}
    (tmp_path / "bad.ndjson").write_text('{"event": "x"}\nnot json\n')
    capsys.readouterr()
    assert main(["plan", "infer", str(tmp_path / "bad.ndjson"), "-o", str(tmp_path / "o")]) == 2
    assert "bad.ndjson:2 is not JSON" in capsys.readouterr().err


def test_required_share_and_enum_limit():
    events = [
        {"event": "E", "properties": {"a": "x", **({"b": 1} if i % 10 else {})}} for i in range(40)
    ]
    assert infer(events).events["E"].required == ("a",)
    assert infer(events, required_share=0.8).events["E"].required == ("a", "b")
    assert "enum" not in infer(events, enum_limit=0).events["E"].properties["a"]
