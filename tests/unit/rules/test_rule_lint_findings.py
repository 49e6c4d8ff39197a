"""Static findings on rule sets: errors stop the project from loading, warnings do not.

Errors: a pair both required and forbidden while both rules are in force, tiers out of
order, split billing that may leave a charge type without payer. Warnings: cycles of
``required``, rules shadowed by an earlier rule, overlapping or gapped time windows,
ended rule sets, versions in force at the same time.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.errors import Diagnostic
from bssrules.rules.decisions import decide

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def by_code(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def compatibility(*rules: str) -> str:
    return "ruleSets:\n  - id: sims\n    kind: compatibility\n    rules:\n" + "".join(rules)


def rule(id: str, type: str, subject: str, target: str, valid_for: str = "") -> str:
    text = (f"      - id: {id}\n        type: {type}\n        subject: {{resourceSpecification: {subject}}}\n"
            f"        target: {{resourceSpecification: {target}}}\n")
    return text + (f"        validFor: {valid_for}\n" if valid_for else "")


# --- compatibility -------------------------------------------------------------------------


def test_a_pair_both_required_and_forbidden_while_both_are_in_force_is_an_error(rule_diagnostics) -> None:
    found = rule_diagnostics(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("refuses-small", "forbidden", "terminal-smartphone", "sim-small")))
    assert [(d.line, d.column, d.path, d.severity, d.code) for d in found] == [
        (9, 9, ("ruleSets", 0, "rules", 1), "error", "contradiction")]
    assert found[0].message == ("rules 'needs-small' and 'refuses-small' make resourceSpecification "
                                "terminal-smartphone both require and forbid resourceSpecification sim-small "
                                "while both are in force")


def test_a_mirrored_forbidden_rule_contradicts_a_required_one(rule_diagnostics) -> None:
    found = rule_diagnostics(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("small-refuses-phone", "forbidden", "sim-small", "terminal-smartphone")))
    assert [(d.code, d.severity) for d in found] == [("contradiction", "error")]


def test_a_contradiction_in_partly_overlapping_validities_is_an_error(rule_diagnostics) -> None:
    found = rule_diagnostics(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small", "{end: 2031-01-01}"),
        rule("refuses-small", "forbidden", "terminal-smartphone", "sim-small", "{start: 2030-06-01}")))
    assert [d.code for d in found] == ["contradiction"]


def test_required_then_forbidden_in_validities_that_do_not_overlap_is_no_contradiction(load_rules) -> None:
    project = load_rules(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small", "{end: 2030-06-01}"),
        rule("refuses-small", "forbidden", "terminal-smartphone", "sim-small", "{start: 2030-06-01}")))
    assert project.warnings == []
    assert [r.key for r in project.rules.versions["sims"][0].rules] == ["needs-small", "refuses-small"]


def test_required_and_forbidden_of_different_targets_is_no_contradiction(load_rules) -> None:
    project = load_rules(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("refuses-large", "forbidden", "terminal-smartphone", "sim-large")))
    assert project.warnings == []


def test_required_and_forbidden_under_conditions_that_exclude_each_other_is_no_contradiction(load_rules) -> None:
    project = load_rules(compatibility(
        rule("individuals-need-small", "required", "terminal-smartphone", "sim-small")
        + "        when: {party.type: individual}\n",
        rule("companies-refuse-small", "forbidden", "terminal-smartphone", "sim-small")
        + "        when: {party.type: organization}\n"))
    compiled = project.rules.versions["sims"][0]
    basket = {"present": {"resourceSpecifications": ["terminal-smartphone", "sim-small"]}}
    assert decide(compiled, {**basket, "party": {"type": "individual"}}, NOW).fired == []
    assert decide(compiled, {**basket, "party": {"type": "organization"}}, NOW).fired == ["companies-refuse-small"]


def test_a_cycle_of_required_rules_is_a_warning_that_shows_the_cycle(load_rules) -> None:
    project = load_rules(compatibility(
        rule("phone-needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("small-needs-ipad", "required", "sim-small", "terminal-ipad-mini"),
        rule("ipad-needs-phone", "required", "terminal-ipad-mini", "terminal-smartphone"),
        rule("classic-needs-large", "required", "terminal-classic-phone", "sim-large")))
    assert [(d.code, d.severity) for d in project.warnings] == [("requiredCycle", "warning")]
    message = project.warnings[0].message
    assert message.startswith("cycle of required rules: ")
    assert all(f"resourceSpecification {spec}" in message
               for spec in ("terminal-smartphone", "sim-small", "terminal-ipad-mini"))
    assert "classic" not in message and "sim-large" not in message


def test_a_chain_of_required_rules_without_a_cycle_is_no_warning(load_rules) -> None:
    project = load_rules(compatibility(
        rule("phone-needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("small-needs-ipad", "required", "sim-small", "terminal-ipad-mini")))
    assert project.warnings == []


# --- usage and split billing -------------------------------------------------------------


def usage(*rules: str, extra: str = "") -> str:
    return "ruleSets:\n  - id: ppv\n    kind: usage\n" + extra + "    rules:\n" + "".join(rules)


def rate(id: str, when: str | None, amount: str = "1.00", more: str = "") -> str:
    text = f"      - id: {id}\n"
    if when:
        text += f"        when: {when}\n"
    return text + f"        rate: {{amount: {amount}, currency: EUR, per: movie{more}}}\n"


def test_a_usage_rule_that_an_earlier_rule_always_catches_is_shadowed(load_rules) -> None:
    project = load_rules(usage(rate("movies", "{usage.service: ppv-movie}"),
                               rate("roaming-movies", "{usage.service: ppv-movie, usage.roaming: true}")), None)
    assert [(d.line, d.column, d.code, d.severity, d.path) for d in project.warnings] == [
        (8, 9, "shadowed", "warning", ("ruleSets", 0, "rules", 1))]
    assert project.warnings[0].message == ("rule 'roaming-movies' never applies: the earlier rule 'movies' matches "
                                           "every case it matches")


def test_a_narrower_rule_before_a_wider_one_is_not_shadowed(load_rules) -> None:
    project = load_rules(usage(rate("roaming-movies", "{usage.service: ppv-movie, usage.roaming: true}"),
                               rate("movies", "{usage.service: ppv-movie}")), None)
    assert project.warnings == []


def test_a_numeric_threshold_implied_by_an_earlier_one_is_shadowed(load_rules) -> None:
    project = load_rules(usage(rate("big", "{usage.volume: {gt: 10}}"), rate("bigger", "{usage.volume: {gte: 20}}"),
                               rate("rest", None)), None)
    assert [(d.code, d.path) for d in project.warnings] == [("shadowed", ("ruleSets", 0, "rules", 1))]


def test_a_split_billing_rule_that_an_earlier_rule_always_catches_is_shadowed(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - id: payers
    kind: splitBilling
    default: car-maker
    rules:
      - {id: usage-to-driver, when: {charge.type: usage}, payer: driver}
      - {id: infotainment-usage-to-partner, when: {charge.type: usage, charge.service: infotainment}, payer: partner}
""", None)
    assert [(d.line, d.code, d.severity) for d in project.warnings] == [(7, "shadowed", "warning")]
    assert "'infotainment-usage-to-partner' never applies" in project.warnings[0].message


def test_overlapping_time_windows_are_a_warning_counting_the_shared_minutes(load_rules) -> None:
    project = load_rules(usage(
        rate("night", '{usage.service: tv, usage.start: {timeOfDay: {from: "00:00", to: "06:59"}}}'),
        rate("day", '{usage.service: tv, usage.start: {timeOfDay: {from: "06:00", to: "23:59"}}}')), None)
    assert [(d.line, d.code, d.severity, d.path) for d in project.warnings] == [
        (9, "overlap", "warning", ("ruleSets", 0, "rules", 1, "when"))]
    assert project.warnings[0].message == ("time window 06:00–23:59 overlaps 00:00–06:59 of an earlier rule on "
                                           "60 minute(s): the earlier rule wins there")


def test_windows_that_meet_without_sharing_a_minute_are_no_overlap_and_no_gap(load_rules) -> None:
    project = load_rules(usage(
        rate("night", '{usage.start: {timeOfDay: {from: "22:00", to: "06:59"}}}'),
        rate("day", '{usage.start: {timeOfDay: {from: "07:00", to: "21:59"}}}')), None)
    assert project.warnings == []


def test_windows_of_different_services_do_not_overlap_each_other(load_rules) -> None:
    project = load_rules(usage(
        rate("tv-night", '{usage.service: tv, usage.start: {timeOfDay: {from: "00:00", to: "23:59"}}}'),
        rate("radio-night", '{usage.service: radio, usage.start: {timeOfDay: {from: "00:00", to: "23:59"}}}')), None)
    assert project.warnings == []


def test_time_windows_that_leave_minutes_without_a_rate_are_a_warning_listing_the_gaps(load_rules) -> None:
    project = load_rules(usage(
        rate("night", '{usage.start: {timeOfDay: {from: "00:01", to: "06:59"}}}'),
        rate("day", '{usage.start: {timeOfDay: {from: "08:00", to: "22:59"}}}')), None)
    assert [(d.line, d.code, d.severity, d.path) for d in project.warnings] == [
        (6, "gap", "warning", ("ruleSets", 0, "rules", 0, "when"))]
    assert project.warnings[0].message.endswith("no rule without a time window catches them: "
                                                "00:00–00:00, 07:00–07:59, 23:00–23:59")


def test_a_rule_without_a_time_window_catches_the_gaps(load_rules) -> None:
    project = load_rules(usage(
        rate("night", '{usage.service: ppv-movie, usage.start: {timeOfDay: {from: "00:01", to: "06:59"}}}'),
        rate("base", "{usage.service: ppv-movie}")), None)
    assert project.warnings == []


@pytest.mark.parametrize("tiers, message", [
    ("[{upTo: 5, amount: 2}, {upTo: 5, amount: 1}, {amount: 0.5}]", "tier limits (upTo) must increase"),
    ("[{upTo: 20, amount: 2}, {upTo: 5, amount: 1}, {amount: 0.5}]", "tier limits (upTo) must increase"),
    ("[{upTo: 5, amount: 2}, {upTo: 20, amount: 1}]", "only the last tier may (and must) have no upTo"),
    ("[{amount: 2}, {upTo: 20, amount: 1}]", "only the last tier may (and must) have no upTo"),
], ids=["equal", "decreasing", "last-bounded", "unbounded-first"])
def test_bad_tiers_are_an_error_at_the_tiers(rule_diagnostics, tiers: str, message: str) -> None:
    text = usage(f"      - id: data\n        rate: {{currency: EUR, per: GB, tiers: {tiers}}}\n")
    found = rule_diagnostics(text, None)
    assert [(d.line, d.message, d.severity, d.code, d.path) for d in found] == [
        (6, message, "error", "tiers", ("ruleSets", 0, "rules", 0, "rate", "tiers"))]


def test_increasing_tiers_ending_without_a_limit_are_fine(load_rules) -> None:
    project = load_rules(usage("      - id: data\n        rate: {currency: EUR, per: GB, tiers: "
                               "[{upTo: 5, amount: 2}, {upTo: 20, amount: 1.5}, {amount: 1}]}\n"), None)
    assert project.warnings == []


def test_split_billing_without_default_that_leaves_charge_types_uncovered_is_an_error(rule_diagnostics) -> None:
    found = rule_diagnostics("""\
ruleSets:
  - id: payers
    kind: splitBilling
    rules:
      - {id: usage-to-driver, when: {charge.type: usage}, payer: driver}
      - {id: telematics-to-maker, when: {charge.type: recurring, charge.service: telematics}, payer: car-maker}
""", None)
    assert [(d.line, d.column, d.severity, d.code, d.path) for d in found] == [
        (2, 5, "error", "noPayer", ("ruleSets", 0, "default"))]
    assert found[0].message == ("no default payer, and no rule assigns every charge of type recurring, oneTime, "
                                "outOfTariff whatever its other attributes: such charges may be left without a payer")


def test_split_billing_with_a_default_payer_covers_every_charge_type(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - id: payers
    kind: splitBilling
    default: car-maker
    rules:
      - {id: usage-to-driver, when: {charge.type: usage}, payer: driver}
""", None)
    assert project.warnings == []


def test_split_billing_whose_rules_cover_every_charge_type_needs_no_default(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - id: payers
    kind: splitBilling
    rules:
      - {id: usage-to-driver, when: {charge.type: {in: [usage, outOfTariff]}}, payer: driver}
      - {id: fees-to-maker, when: {charge.type: {in: [recurring, oneTime]}}, payer: car-maker}
""", None)
    assert project.warnings == []


# --- rule sets and versions ----------------------------------------------------------------


def test_a_rule_set_whose_validity_has_ended_is_a_warning(load_rules) -> None:
    project = load_rules(usage(rate("base", None), extra="    validFor: {start: 2019-01-01, end: 2020-01-01}\n"), None)
    assert [(d.line, d.code, d.severity, d.path, d.message) for d in project.warnings] == [
        (4, "ended", "warning", ("ruleSets", 0, "validFor", "end"),
         "rule set 'ppv' ended on 2020-01-01: it no longer applies")]


def test_a_rule_set_that_ends_in_the_future_is_no_warning(load_rules) -> None:
    project = load_rules(usage(rate("base", None), extra="    validFor: {end: 2099-01-01}\n"), None)
    assert project.warnings == []


def test_versions_in_force_at_the_same_time_are_a_warning_saying_which_wins(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - {id: sla, kind: sla, version: 1, validFor: {start: 2025-01-01},
     rules: [{id: slow, metric: latency, when: {metric.value: {gt: 100}}}]}
  - {id: sla, kind: sla, version: 2, validFor: {start: 2026-01-01},
     rules: [{id: slow, metric: latency, when: {metric.value: {gt: 80}}}]}
""", None)
    assert [(d.line, d.code, d.severity, d.path, d.message) for d in project.warnings] == [
        (4, "versionOverlap", "warning", ("ruleSets", 1, "validFor"),
         "versions 1 and 2 of rule set 'sla' are in force at the same time; version 2 wins where they overlap")]


def test_consecutive_versions_are_no_warning(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - {id: sla, kind: sla, version: 1, validFor: {start: 2025-01-01, end: 2099-01-01},
     rules: [{id: slow, metric: latency, when: {metric.value: {gt: 100}}}]}
  - {id: sla, kind: sla, version: 2, validFor: {start: 2099-01-01},
     rules: [{id: slow, metric: latency, when: {metric.value: {gt: 80}}}]}
""", None)
    assert project.warnings == []


def test_the_examples_have_no_finding(example_project) -> None:
    for example in ("devices", "connected_car", "ppv"):
        assert example_project(example).warnings == [], example


# --- bssrules check ------------------------------------------------------------------------


@pytest.fixture
def project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``project_folder(rules_text)``: a copy of the devices catalog with one rules file, as a relative path."""
    monkeypatch.chdir(tmp_path)

    def make(text: str) -> Path:
        folder = tmp_path / "project"
        shutil.copytree(ROOT / "examples" / "devices" / "catalog", folder / "catalog")
        (folder / "rules").mkdir()
        (folder / "rules" / "rules.yaml").write_text(text, encoding="utf-8")
        return Path("project")

    return make


def test_check_exits_1_and_prints_every_error_as_file_line_column(project_folder) -> None:
    folder = project_folder(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("refuses-small", "forbidden", "terminal-smartphone", "sim-smal")))
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "project/rules/rules.yaml:12:41: unknown resourceSpecification 'sim-smal' (did you mean 'sim-small'?) "
        "[at $.ruleSets[0].rules[1].target.resourceSpecification]",
        "1 error"]
    assert "ok" not in result.stdout


def test_check_exits_1_on_a_lint_error(project_folder) -> None:
    folder = project_folder(compatibility(
        rule("needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("refuses-small", "forbidden", "terminal-smartphone", "sim-small")))
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("project/rules/rules.yaml:9:9: rules 'needs-small' and "
                                                    "'refuses-small' make")


def test_check_exits_0_with_warnings_printed_on_stderr(project_folder) -> None:
    folder = project_folder(compatibility(
        rule("phone-needs-small", "required", "terminal-smartphone", "sim-small"),
        rule("small-needs-phone", "required", "sim-small", "terminal-smartphone")))
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("project/rules/rules.yaml:")
    assert ": warning: cycle of required rules: " in lines[0]
    assert result.stdout.startswith("ok project: ") and result.stdout.rstrip().endswith("1 rule set, 0 rule tests, "
                                                                                          "1 warning")


def test_check_of_the_examples_exits_0_without_output_on_stderr() -> None:
    examples = ROOT / "examples"
    result = CliRunner().invoke(app, ["check", str(examples / "devices"), str(examples / "connected_car"),
                                      str(examples / "ppv")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        f"ok {examples / 'devices'}", f"ok {examples / 'connected_car'}", f"ok {examples / 'ppv'}"]


# --- facts rating never has ------------------------------------------------------------------


def test_a_usage_rule_set_testing_a_fact_rating_never_has_is_warned_at_the_test(rule_diagnostics) -> None:
    found = by_code(rule_diagnostics(
        "ruleSets:\n"
        "  - id: hotel\n"
        "    kind: usage\n"
        "    appliesTo: {party.segment: hospitality}\n"
        "    rules:\n"
        "      - id: adults\n"
        "        when: {usage.service: ppv-movie, party.age: {gte: 18}, party.classification: VIP}\n"
        "        rate: {amount: 2.50, currency: EUR, per: movie}\n"
        "      - id: known\n"
        "        when: {usage.service: ppv-movie, inventory.activeOfferings: {contains: ppv-service}}\n"
        "        rate: {amount: 4.00, currency: EUR, per: movie}\n"), "unknownWhenRating")
    assert [(d.line, d.severity, d.path[-2:]) for d in found] == [
        (4, "warning", ("appliesTo", "party.segment")), (7, "warning", ("party.age", "gte"))]
    assert found[0].message.startswith("'party.segment' is never known when a usage is rated")


def test_eligibility_rules_may_test_every_party_fact(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: adults\n"
        "    kind: eligibility\n"
        "    rules:\n"
        "      - id: adults-only\n"
        "        offerings: [ppv-service]\n"
        "        when: {party.age: {gte: 18}, party.segment: residential}\n"
        "        reason: {code: minor, label: Adults only}\n")
    assert by_code(found, "unknownWhenRating") == []
