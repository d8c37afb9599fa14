"""``mixtrack plan push`` and ``pull`` against a local Lexicon Schemas API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mixtrack import PlanError
from mixtrack.cli import main
from mixtrack.plan import Entry, Plan
from mixtrack.plan._lexicon import HOSTS, Lexicon
from tests.plan._lexicon_server import LexiconServer

DEMO_PLAN = Path(__file__).resolve().parents[2] / "mixtrack" / "demo" / "plan"
ACCOUNT = "mixtrack-ci.a1b2c3:s3cr3t"


@pytest.fixture
def lexicon():
    with LexiconServer(project_id=12345, account=("mixtrack-ci.a1b2c3", "s3cr3t")) as server:
        yield server


@pytest.fixture
def account(monkeypatch):
    monkeypatch.setenv("MIXTRACK_SERVICE_ACCOUNT", ACCOUNT)


def sync(action: str, path: Path, lexicon: LexiconServer, *extra: str) -> int:
    return main(
        ["plan", action, str(path), "--project-id", "12345", "--api-host", lexicon.url, *extra]
    )


def test_push_then_pull_round_trips_unchanged(tmp_path, lexicon, account, capsys):
    assert sync("push", DEMO_PLAN, lexicon) == 0
    assert "added 8, changed 0, kept 0 schemas" in capsys.readouterr().out
    assert ("POST", "/api/app/projects/12345/schemas") in lexicon.requests
    assert sync("pull", tmp_path / "pulled", lexicon) == 0
    originals = sorted(DEMO_PLAN.rglob("*.json"))
    pulled = sorted((tmp_path / "pulled").rglob("*.json"))
    assert [p.relative_to(tmp_path / "pulled") for p in pulled] == [
        p.relative_to(DEMO_PLAN) for p in originals
    ]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(originals, pulled, strict=True))
    # a second push changes nothing, and says so without a request
    posts = lexicon.requests.count(("POST", "/api/app/projects/12345/schemas"))
    assert sync("push", DEMO_PLAN, lexicon) == 0
    assert "added 0, changed 0, kept 8 schemas" in capsys.readouterr().out
    assert lexicon.requests.count(("POST", "/api/app/projects/12345/schemas")) == posts
    # pulling again makes the folder what Lexicon holds: a schema deleted there goes here too
    del lexicon.schemas[("event", "Logged in")]
    (tmp_path / "pulled" / "notes.md").write_text("kept")
    assert sync("pull", tmp_path / "pulled", lexicon, "--dry-run") == 1
    assert "--- local:event/Logged in.json" in capsys.readouterr().out
    assert sync("pull", tmp_path / "pulled", lexicon) == 0
    assert "Logged in" not in Plan.load(tmp_path / "pulled").events
    assert (tmp_path / "pulled" / "notes.md").read_text() == "kept"
    # the bulk form pulls the same plan
    assert sync("pull", tmp_path / "plan.json", lexicon) == 0
    assert Plan.load(tmp_path / "plan.json").entries == Plan.load(tmp_path / "pulled").entries


def test_dry_run_shows_the_diff_with_lexicons_metadata_merge(tmp_path, lexicon, account, capsys):
    key = ("event", "Signed up")
    stored = json.loads((DEMO_PLAN / "event" / "Signed up.json").read_text())
    stored["metadata"]["com.mixpanel"]["hidden"] = True
    stored["metadata"]["com.mixpanel"]["contacts"] = ["ada@example.com"]
    lexicon.schemas[key] = stored
    local = tmp_path / "plan"
    Plan.load(DEMO_PLAN).write(local)
    mine = json.loads((local / "event" / "Signed up.json").read_text())
    del mine["metadata"]["com.mixpanel"]["hidden"]  # left out: Lexicon keeps hidden=true
    mine["metadata"]["com.mixpanel"]["contacts"] = None  # null: Lexicon removes it
    mine["description"] = "A visitor created an account (new wording)."
    (local / "event" / "Signed up.json").write_text(json.dumps(mine))
    capsys.readouterr()
    assert sync("push", local, lexicon, "--dry-run") == 1
    out = capsys.readouterr().out
    assert "--- lexicon:event/Signed up" in out
    assert '-  "description": "A visitor created an account.",' in out
    assert '+  "description": "A visitor created an account (new wording).",' in out
    assert '"hidden": true' in out and '-        "ada@example.com"' in out
    assert "would add 7, changed 1, kept 0 schemas" in out
    assert not any(method == "POST" for method, _ in lexicon.requests)
    assert sync("push", local, lexicon) == 0
    after = lexicon.schemas[key]["metadata"]["com.mixpanel"]
    assert after["hidden"] is True and "contacts" not in after
    assert sync("push", local, lexicon, "--dry-run") == 0  # nothing left to change


def test_credentials_project_and_hosts(tmp_path, lexicon, monkeypatch, capsys):
    monkeypatch.delenv("MIXTRACK_SERVICE_ACCOUNT", raising=False)
    assert sync("pull", tmp_path / "p", lexicon) == 2
    assert "no service account: set MIXTRACK_SERVICE_ACCOUNT" in capsys.readouterr().err
    assert sync("pull", tmp_path / "p", lexicon, "--service-account", "sa:wrong") == 2
    assert "Lexicon refused the service account (401)" in capsys.readouterr().err
    code = main(
        [
            "plan",
            "pull",
            str(tmp_path / "p"),
            "--project-id",
            "999",
            "--api-host",
            lexicon.url,
            "--service-account",
            ACCOUNT,
        ]
    )
    assert code == 2 and "403" in capsys.readouterr().err
    with pytest.raises(PlanError, match="username:secret"):
        Lexicon(1, "no-colon")
    assert Lexicon(7, ACCOUNT, region="eu").base == (
        "https://eu.mixpanel.com/api/app/projects/7/schemas"
    )
    assert set(HOSTS) == {"us", "eu", "in"} and HOSTS["in"] == "https://in.mixpanel.com"


def test_the_local_server_checks_the_body_shape(lexicon):
    url = f"{lexicon.url}/api/app/projects/12345/schemas"
    auth = ("mixtrack-ci.a1b2c3", "s3cr3t")
    bad = [
        {"entries": {}},
        {"entries": [{"entityType": "cohort", "name": "x", "schemaJson": {}}]},
        {"entries": [{"entityType": "event", "name": "x", "schemaJson": []}]},
        {"entries": [], "truncate": "yes"},
    ]
    for body in bad:
        answer = httpx.post(url, json=body, auth=auth)
        assert answer.status_code == 400, body
    assert httpx.post(url, content=b"{", auth=auth).status_code == 400
    good = {"entries": [Entry("event", "x", {"description": "d"}).as_bulk()], "truncate": False}
    assert httpx.post(url, json=good, auth=auth).json()["results"] == {"added": 1, "deleted": 0}
    one = httpx.get(f"{url}/event/x", auth=auth).json()["results"]
    assert one == {"description": "d"}
