"""Each launch problem is found, and nothing is reported on a clean launch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixtrack.audit import audit, format_audit, identity_from_events, weights_from_flags
from tests.audit._streams import EXPERIMENT, clean

PLAN = {"grid": 50, "list": 50}


@pytest.mark.parametrize("weights", [None, PLAN, {EXPERIMENT: PLAN}])
def test_clean_launch_reports_nothing(weights: dict[str, object] | None) -> None:
    report = audit(clean().events, weights=weights)  # type: ignore[arg-type]
    assert report.findings == ()
    assert not report.fails("warnings") and not report.fails("errors")
    [one] = report.experiments
    assert one.name == EXPERIMENT and one.users == 200 and one.exposures == 200
    assert {v: c.users for v, c in one.variants.items()} == {"grid": 100, "list": 100}
    assert one.srm is not None and one.srm.p_value == pytest.approx(1.0)
    assert "No problems found." in format_audit(report)


def test_duplicate_exposures_are_errors_with_examples() -> None:
    stream = clean()
    stream.expose("user-3", "list").expose("user-3", "list").expose("user-8", "grid")
    report = audit(stream.events)
    assert report.codes() == {"duplicate_exposure"}
    [finding] = report.findings
    assert finding.severity == "error" and finding.count == 2
    assert "3 extra exposure(s)" in finding.message
    assert {e["person"] for e in finding.examples} == {"user-3", "user-8"}
    assert report.fails("errors")


def test_exposures_of_one_person_under_two_ids_are_duplicates() -> None:
    stream = clean()
    stream.expose("$device:abc", "grid").add("Page viewed", "$device:abc")
    stream.identify("user-new", "$device:abc")
    stream.expose("user-new", "grid").add("Order completed", "user-new", revenue=3)
    report = audit(stream.events)
    assert report.codes() == {"duplicate_exposure"}
    [example] = report.findings[0].examples
    assert example["distinct_ids"] == ["$device:abc", "user-new"]


def test_missing_names_are_errors() -> None:
    stream = clean()
    stream.expose("user-900", None).add("Page viewed", "user-900")
    stream.expose("user-901", "grid", experiment=None).add("Page viewed", "user-901")
    report = audit(stream.events)
    assert report.codes() == {"missing_variant_name", "missing_experiment_name"}
    assert all(f.severity == "error" for f in report.findings)
    by_code = {f.code: f for f in report.findings}
    assert by_code["missing_variant_name"].experiment == EXPERIMENT
    assert by_code["missing_experiment_name"].examples[0]["distinct_id"] == "user-901"


def test_missing_variant_is_found_when_auditing_one_experiment() -> None:
    stream = clean()
    stream.expose("user-900", None).add("Page viewed", "user-900")
    assert audit(stream.events, experiment=EXPERIMENT).codes() == {"missing_variant_name"}


def test_experiment_names_differing_by_case_and_punctuation() -> None:
    stream = clean()
    for i in range(10):
        user = f"other-{i}"
        stream.expose(user, ("grid", "list")[i % 2], experiment="Pricing Page-Layout")
        stream.add("Page viewed", user)
    report = audit(stream.events)
    assert report.codes() == {"inconsistent_experiment_names"}
    [finding] = report.findings
    assert finding.severity == "warning" and finding.experiment == EXPERIMENT
    assert {e["name"] for e in finding.examples} == {EXPERIMENT, "Pricing Page-Layout"}
    # Auditing the one experiment still tells about the other spelling.
    assert audit(stream.events, experiment=EXPERIMENT).codes() == {"inconsistent_experiment_names"}


def test_variant_names_differing_by_case() -> None:
    stream = clean()
    for i in range(4):
        stream.expose(f"other-{i}", "Grid").add("Page viewed", f"other-{i}")
    report = audit(stream.events, weights=PLAN)
    assert "inconsistent_variant_names" in report.codes()
    assert "variant_flip" not in report.codes()
    assert not report.fails("errors")


def test_variant_flip_is_an_error() -> None:
    stream = clean()
    stream.expose("user-4", "list")  # user-4 saw grid first
    report = audit(stream.events)
    assert report.codes() == {"variant_flip", "duplicate_exposure"}
    flip = next(f for f in report.findings if f.code == "variant_flip")
    assert flip.severity == "error" and flip.count == 1
    assert flip.examples[0]["variants"] == ["grid", "list"]
    # The person counts in the variant they saw first.
    assert report.experiments[0].variants["grid"].users == 100


def test_sample_ratio_mismatch_against_planned_weights() -> None:
    stream = clean(users=0)
    for i in range(1000):
        user = f"user-{i}"
        stream.expose(user, "grid" if i % 10 < 6 else "list").add("Page viewed", user)
    report = audit(stream.events, weights=PLAN)
    assert report.codes() == {"sample_ratio_mismatch"}
    [finding] = report.findings
    assert finding.severity == "error"
    srm = report.experiments[0].srm
    assert srm is not None and srm.p_value < 0.001 and srm.statistic == pytest.approx(40.0)
    # The same counts are fine when 60/40 was the plan.
    assert audit(stream.events, weights={"grid": 60, "list": 40}).clean


def test_planned_weights_from_a_flags_file(tmp_path: Path) -> None:
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({EXPERIMENT: {"variants": {"grid": 60, "list": 40}}}))
    plan = weights_from_flags(flags)
    assert plan == {EXPERIMENT: {"grid": 60.0, "list": 40.0}}
    report = audit(clean(users=600).events, weights=plan)
    assert report.codes() == {"sample_ratio_mismatch"}  # 300/300 against 60/40
    assert report.experiments[0].variants["grid"].planned == pytest.approx(0.6)


def test_without_weights_an_even_split_is_tested() -> None:
    stream = clean(users=0)
    for i in range(300):
        stream.expose(f"u{i}", "grid" if i % 3 else "list").add("Page viewed", f"u{i}")
    report = audit(stream.events)
    srm = report.experiments[0].srm
    assert srm is not None and srm.assumed and srm.mismatch
    assert "even split" in report.findings[0].message


def test_variant_outside_the_plan_is_a_warning() -> None:
    stream = clean()
    stream.expose("user-999", "carousel").add("Page viewed", "user-999")
    report = audit(stream.events, weights=PLAN)
    assert report.codes() == {"unplanned_variant"}


def test_anonymous_visitors_who_never_sign_up_are_not_a_warning() -> None:
    stream = clean()
    for i in range(6):
        anon = f"$device:{i:04d}"
        stream.expose(anon, ("grid", "list")[i % 2]).add("Page viewed", anon)
    stream.expose("anon-5e1f", "grid").add("Page viewed", "anon-5e1f")
    assert audit(stream.events).clean


def test_a_login_the_id_merge_system_cannot_read_is_a_warning() -> None:
    stream = clean()
    for i in range(4):
        anon = f"$device:{i:04d}"
        stream.expose(anon, ("grid", "list")[i % 2]).add("Page viewed", anon)
    # Logins told the Original way only: a Simplified project never joins them.
    stream.add("$identify", "user-x0", **{"$anon_distinct_id": "$device:0000"})
    # distinct_id switched to the user with the device id, but no $user_id.
    stream.add("Order completed", "user-x1", **{"$device_id": "0001"})
    report = audit(stream.events)
    assert report.codes() == {"unjoined_identity"}
    [finding] = report.findings
    assert finding.severity == "warning" and finding.count == 2
    assert sorted(e["distinct_id"] for e in finding.examples) == ["$device:0000", "$device:0001"]
    # Under Original ID Merge the $identify joins; the second login still does not.
    original = audit(stream.events, identity=identity_from_events(stream.events, "original"))
    [finding] = original.findings
    assert finding.count == 1 and finding.examples[0]["distinct_id"] == "$device:0001"
    # Sent the Simplified way ($device_id and $user_id), both join.
    stream.add("Signed in", "user-x0", **{"$device_id": "0000", "$user_id": "user-x0"})
    stream.add("Signed in", "user-x1", **{"$device_id": "0001", "$user_id": "user-x1"})
    assert audit(stream.events).clean


def test_exposures_with_no_later_activity() -> None:
    stream = clean()
    for i in range(5):
        stream.expose(f"ghost-{i}", ("grid", "list")[i % 2])
    report = audit(stream.events)
    assert report.codes() == {"no_later_activity"}
    [finding] = report.findings
    assert finding.severity == "warning" and finding.count == 5
    assert "5 of 205" in finding.message
    assert report.fails("warnings") and not report.fails("errors")


def test_activity_before_the_exposure_only_does_not_count() -> None:
    stream = clean()
    stream.add("Page viewed", "early-bird").expose("early-bird", "grid")
    assert audit(stream.events).codes() == {"no_later_activity"}


def test_audit_of_one_experiment_leaves_others_out() -> None:
    stream = clean()
    stream.expose("user-1", "on", experiment="new_nav").expose("user-1", "off", "new_nav")
    stream.add("Page viewed", "user-1")
    assert audit(stream.events, experiment=EXPERIMENT).clean
    assert audit(stream.events).codes() == {"duplicate_exposure", "variant_flip"}


def test_fail_levels() -> None:
    report = audit(clean().events)
    with pytest.raises(ValueError, match="warnings"):
        report.fails("info")


def test_public_names_are_documented() -> None:
    import inspect

    import mixtrack.audit

    for name in mixtrack.audit.__all__:
        value = getattr(mixtrack.audit, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, name
