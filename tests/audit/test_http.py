"""``GET /_mixtrack/audit`` on a real collector fed by the real SDK."""

from __future__ import annotations

import httpx

from mixtrack.client import Client
from mixtrack.testing import Collector
from tests.audit._launch import EXPERIMENT, broken_launch, clean_launch


def get_audit(collector: Collector, **params: str) -> httpx.Response:
    with httpx.Client(base_url=collector.url, trust_env=False, timeout=30) as http:
        return http.get("/_mixtrack/audit", params=params)


def test_clean_launch(mixtrack_client: Client, mixtrack_collector: Collector) -> None:
    variants = clean_launch(mixtrack_client)
    assert mixtrack_client.flush(timeout=10)
    answer = get_audit(
        mixtrack_collector,
        experiment=EXPERIMENT,
        metric="Order completed",
        value_property="revenue",
        weights="grid=50,list=50",
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True and body["errors"] == 0 and body["warnings"] == 0
    assert body["findings"] == []
    [experiment] = body["experiments"]
    counts = {v: c["users"] for v, c in experiment["variants"].items()}
    assert counts == {
        "grid": list(variants.values()).count("grid"),
        "list": list(variants.values()).count("list"),
    }
    assert experiment["sample_ratio"]["mismatch"] is False
    readout = body["readout"]
    assert readout["metric"] == "Order completed" and readout["control"] == "grid"
    assert sum(v["converted"] for v in readout["variants"]) == 15
    assert "peeking" in readout["warning"]
    assert "No problems found." in body["text"]


def test_broken_launch(mixtrack_client: Client, mixtrack_collector: Collector) -> None:
    broken_launch(mixtrack_client)
    assert mixtrack_client.flush(timeout=10)
    body = get_audit(mixtrack_collector, weights="grid=50,list=50").json()
    assert body["ok"] is False
    codes = {f["code"]: f for f in body["findings"]}
    assert {"duplicate_exposure", "variant_flip", "missing_variant_name"} <= set(codes)
    assert codes["duplicate_exposure"]["count"] == 20
    assert codes["duplicate_exposure"]["severity"] == "error"
    assert codes["missing_variant_name"]["examples"][0]["distinct_id"] == "shopper-1"


def test_bad_parameters(mixtrack_collector: Collector) -> None:
    answer = get_audit(mixtrack_collector, weights="grid=fifty")
    assert answer.status_code == 400 and "control=50,treatment=50" in answer.json()["error"]
    answer = get_audit(mixtrack_collector, experimnet="x")
    assert answer.status_code == 400 and "experimnet" in answer.json()["error"]
    with httpx.Client(base_url=mixtrack_collector.url, trust_env=False) as http:
        # A forged (simple) request is refused before the method is looked at.
        assert http.post("/_mixtrack/audit").status_code == 403
        control = {"Content-Type": "application/json", "X-Mixtrack-Control": "1"}
        assert http.post("/_mixtrack/audit", headers=control).status_code == 405


def test_readout_problem_is_reported_with_the_audit(mixtrack_collector: Collector) -> None:
    body = get_audit(mixtrack_collector, metric="Order completed").json()
    assert body["readout"] is None and "choose an experiment" in body["readout_error"]
    assert body["ok"] is True and body["experiments"] == []


def test_metrics_and_sequential_settings_over_http(
    mixtrack_client: Client, mixtrack_collector: Collector
) -> None:
    clean_launch(mixtrack_client)
    assert mixtrack_client.flush(timeout=10)
    body = get_audit(
        mixtrack_collector, experiment=EXPERIMENT, metric="Order completed",
        guardrail="Clicked plan:count", correction="bh", sequential_tau="0.2",
        sequential_min_users="10", window="30", format="html",
    ).json()  # fmt: skip
    readout = body["readout"]
    assert [m["metric"]["role"] for m in readout["metrics"]] == ["primary", "guardrail"]
    assert readout["sequential_tau"] == 0.2 and readout["sequential_min_users"] == 10
    assert readout["window_seconds"] == 30 * 86400 and readout["correction"] == "bh"
    assert '<svg class="rate-chart"' in body["html"]
    typo = get_audit(mixtrack_collector, experiment=EXPERIMENT, metric="Order completed",
                     control="gird").json()  # fmt: skip
    assert "did you mean 'grid'" in typo["unknown"][0]
    hostile = (
        {"correction": "holm"}, {"sequential_tau": "-1"}, {"sequential_tau": "inf"},
        {"sequential_tau": "nan"}, {"sequential_min_users": "1"}, {"sequential_min_users": "x"},
        {"window": "nan"}, {"window": "-3"}, {"format": "pdf"}, {"guardrail": "Paid:winsor=100"},
    )  # fmt: skip
    for bad in hostile:
        assert get_audit(mixtrack_collector, **bad).status_code == 400
