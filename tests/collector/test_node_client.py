"""The official Node.js `mixpanel` package (tests/node), run with the machine's node."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mixtrack.testing._collector import Collector

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def run_node(scenario: str, url: str, *args: str, env: dict[str, str] | None = None) -> list[str]:
    completed = subprocess.run(
        ["node", "clients.js", scenario, url, *args],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HTTP_PROXY": "", "HTTPS_PROXY": "", **(env or {})},
    )
    assert completed.returncode == 0, completed.stderr
    errors: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])["errors"]
    return errors


@pytest.mark.mixtrack_identity("original")  # an Original ID Merge client
@pytest.mark.parametrize("verbose", [False, True])
def test_track_get_and_batch_post(collector: Collector, verbose: bool) -> None:
    args = ["--verbose"] if verbose else []
    assert run_node("track", collector.url, *args) == []
    [signed_up] = collector.events("Signed up")
    assert signed_up["properties"]["plan"] == "pro"
    assert signed_up["properties"]["mp_lib"] == "node"
    batched = collector.events("Batched")
    assert len(batched) == 60
    # Base64 with '+' and '/' sent unencoded in a form body decodes intact. The two batch
    # requests may arrive in either order, so find each event by its distinct_id.
    by_id = {e["properties"]["distinct_id"]: e["properties"]["text"] for e in batched}
    assert by_id == {f"node-{i}": "é~~>>>?" + "x" * i for i in range(60)}
    assert collector.identity("node-alias") == ["node-1", "node-alias"]
    stats = collector.stats()["requests_by_endpoint"]
    assert stats == {"track": 4}  # 1 GET, 2 batch POSTs (50 + 10), 1 alias GET


def test_people_and_groups(collector: Collector) -> None:
    assert run_node("people", collector.url) == []
    assert collector.profile("node-1") == {
        "$email": "n@example.com",
        "logins": 3,
        "pages": ["home"],
        "tags": ["b"],
    }
    assert collector.groups("company", "acme")[0]["properties"] == {
        "name": "Acme",
        "regions": ["eu"],
    }


def test_import_with_api_key(collector: Collector) -> None:
    assert run_node("import_key", collector.url) == []
    assert len(collector.events("Old event", endpoint="import")) == 1
    assert len(collector.events("Old batch", endpoint="import")) == 3


def test_refusal_reaches_the_node_callback(collector: Collector) -> None:
    errors = run_node("refused", collector.url)
    assert errors == ["Mixpanel Server Error: 0"]  # the non-verbose body, exactly "0"
    assert collector.rejected()[0]["failed_records"][0]["field"] == "properties.distinct_id"


def test_import_with_secret_over_tls() -> None:
    with Collector(tls=True, secrets=["node-secret"]) as collector:
        assert collector.url.startswith("https://")
        env = {"NODE_EXTRA_CA_CERTS": str(collector.ca_file)}
        assert run_node("import_secret", collector.url, "node-secret", env=env) == []
        assert len(collector.events("Secret import")) == 1
        errors = run_node("import_secret", collector.url, "wrong-secret", env=env)
        assert errors and "Mixpanel Server Error" in errors[0]
        assert [r["status"] for r in collector.rejected()] == [401]
