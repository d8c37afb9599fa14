"""``mixtrack plan codegen``: typed calls that mypy and pyright hold to the plan."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mixtrack.cli import main
from mixtrack.demo import shop_events
from mixtrack.plan import Entry, Plan
from mixtrack.plan._codegen import generate
from mixtrack.testing import capture

ROOT = Path(__file__).resolve().parents[2]
DEMO_PLAN = ROOT / "mixtrack" / "demo" / "plan"
DEMO_MODULE = ROOT / "mixtrack" / "demo" / "shop_events.py"

#: A plan with what the demo's lacks: optional properties, keys that are not identifiers,
#: nullable and array types, and a property named like a parameter.
ODD_PLAN = Plan(
    [
        Entry(
            "event",
            "Added To Cart",
            {
                "description": "An item went into the cart.",
                "properties": {
                    "item_name": {"type": "string", "description": "What was added."},
                    "Item Price": {"type": "number"},
                    "coupon": {"type": ["string", "null"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "client": {"type": "integer"},
                    "class": {"type": "boolean"},
                },
                "required": ["item_name", "Item Price"],
                "additionalProperties": False,
            },
        ),
        Entry("event", "Searched", {"properties": {"query": {"type": "string"}}}),
    ]
)


def test_the_demo_module_is_up_to_date_and_check_finds_a_stale_one(tmp_path, capsys):
    assert main(["plan", "codegen", str(DEMO_PLAN), "-o", str(DEMO_MODULE), "--check"]) == 0
    stale = tmp_path / "events.py"
    stale.write_text(DEMO_MODULE.read_text().replace("price: float", "price: int"))
    assert main(["plan", "codegen", str(DEMO_PLAN), "-o", str(stale), "--check"]) == 1
    assert "is stale" in capsys.readouterr().err
    assert main(["plan", "codegen", str(DEMO_PLAN), "-o", str(stale)]) == 0
    assert main(["plan", "codegen", str(DEMO_PLAN), "-o", str(stale), "--check"]) == 0


def test_generation_is_deterministic_and_the_output_is_lint_clean(tmp_path):
    first, second = generate(ODD_PLAN), generate(Plan(reversed(ODD_PLAN.entries)))
    assert first == second
    module = tmp_path / "odd_events.py"
    module.write_text(first)
    ruff = [sys.executable, "-m", "ruff"]
    checked = subprocess.run(
        [*ruff, "check", "--config", str(ROOT / "pyproject.toml"), str(module)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run(
        [*ruff, "format", "--config", str(ROOT / "pyproject.toml"), "--diff", str(module)],
        capture_output=True,
        text=True,
    )
    assert formatted.returncode == 0, formatted.stdout


def _load(text: str, tmp_path: Path, name: str):
    import importlib.util

    file = tmp_path / f"{name}.py"
    file.write_text(text)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_functions_track_events_that_keep_to_the_plan(tmp_path):
    odd = _load(generate(ODD_PLAN), tmp_path, "odd_events")
    events = capture(plan=ODD_PLAN)  # strict: an off-plan event would raise
    odd.added_to_cart(events.client, "u1", item_name="mug", item_price=9.5, client_=3)
    odd.added_to_cart(events.client, "u1", item_name="cap", item_price=5, coupon="X", tags=["a"])
    odd.searched(events.client, "u2")
    sent = [e["properties"] for e in events.named("Added To Cart")]
    assert {k: sent[0][k] for k in ("item_name", "Item Price", "client")} == {
        "item_name": "mug",
        "Item Price": 9.5,
        "client": 3,
    }
    assert "coupon" not in sent[0] and sent[1]["coupon"] == "X" and sent[1]["tags"] == ["a"]
    assert events.named("Searched")[0]["properties"]["distinct_id"] == "u2"
    assert odd.AddedToCartProperties.__required_keys__ == {"item_name", "Item Price"}
    assert "An item went into the cart." in odd.added_to_cart.__doc__


def test_the_demo_module_sends_through_a_visitor_tracker():
    events = capture(plan=str(DEMO_PLAN))

    class Visitor:  # what request.mixtrack is to a view: track(event, properties)
        def track(self, event, properties=None):
            events.client.track("visitor-7", event, properties)

    from mixtrack.plan import Visitor as AsClient

    shop_events.viewed_product(AsClient(Visitor()), None, product="team", price=99.0)
    assert events.named("Viewed product")[0]["properties"]["distinct_id"] == "visitor-7"
    with pytest.raises(ValueError, match="pass None as the distinct_id"):
        shop_events.viewed_home(AsClient(Visitor()), "someone-else")


# -- the type checkers -------------------------------------------------------------------

MISTAKES = {
    "good": 'shop_events.viewed_product(client, "u1", product="pro", price=29.0)\n',
    "misspelt_event": 'shop_events.viewd_product(client, "u1", product="pro", price=29.0)\n',
    "missing_property": 'shop_events.viewed_product(client, "u1", product="pro")\n',
    "wrong_type": 'shop_events.viewed_product(client, "u1", product="pro", price="29")\n',
    "unplanned_value": 'shop_events.viewed_product(client, "u1", product="gold", price=1.0)\n',
}
HEADER = (
    "import mixtrack\n"
    "from mixtrack.demo import shop_events\n\n"
    'client = mixtrack.Client("T", api_host="http://127.0.0.1:1", disabled=True)\n'
)


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mistakes")
    for name, line in MISTAKES.items():
        (folder / f"{name}.py").write_text(HEADER + line)
    return folder


def _errors(output: str, name: str) -> str:
    return "\n".join(line for line in output.splitlines() if f"{name}.py" in line)


def _check_files(command: list[str], folder: Path) -> str:
    """Run a type checker on every mistake file; it must fail, and pass the good one."""
    files = sorted(map(str, folder.glob("*.py")))
    result = subprocess.run(
        [*command, *files], capture_output=True, text=True, cwd=folder, timeout=300
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert _errors(result.stdout, "good") == ""
    return result.stdout


def test_mypy_rejects_each_mistake(mistakes):
    cache = str(mistakes / ".mypy_cache")
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", cache]
    out = _check_files(mypy, mistakes)
    assert 'Module has no attribute "viewd_product"; maybe "viewed_product"?' in _errors(
        out, "misspelt_event"
    )
    assert 'Missing named argument "price" for "viewed_product"' in _errors(out, "missing_property")
    assert (
        'Argument "price" to "viewed_product" has incompatible type "str"; expected "float"'
        in _errors(out, "wrong_type")
    )
    assert 'Argument "product" to "viewed_product" has incompatible type "Literal[\'gold\']"' in (
        _errors(out, "unplanned_value")
    )


def test_pyright_rejects_each_mistake(mistakes):
    pyright = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    assert pyright, "basedpyright is in the dev extra"
    (mistakes / "pyrightconfig.json").write_text('{"typeCheckingMode": "standard"}')
    out = _check_files([pyright, "--pythonpath", sys.executable], mistakes)
    assert '"viewd_product" is not a known attribute of module "mixtrack.demo.shop_events"' in (
        _errors(out, "misspelt_event")
    )
    assert 'Argument missing for parameter "price"' in _errors(out, "missing_property")
    assert 'cannot be assigned to parameter "price" of type "float"' in _errors(out, "wrong_type")
    assert 'cannot be assigned to parameter "product"' in _errors(out, "unplanned_value")
