"""``bssrules check`` reports every error that can be known in one run, each once, and no
consequence of an error as an error of its own (issue 15, item 7).

Each test copies an example project (catalog and rules) into a temporary folder, breaks
known lines, and checks it from that folder so that files show as ``project/<path>``.
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.errors import Diagnostic
from bssrules.rules.project import check_project, load_project
from bssrules.rules.testing import EXPECTATIONS, summary
from bssrules.rules.decisions import Decision

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

Edit = tuple[str, str, str]  # (file inside the project, exact old text, new text)
Broken = Callable[..., Path]


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Broken:
    """``broken(example, *edits)``: a copy of an example project with each edit applied once."""
    monkeypatch.chdir(tmp_path)

    def make(example: str, *edits: Edit) -> Path:
        folder = tmp_path / "project"
        shutil.copytree(EXAMPLES / example, folder, ignore=shutil.ignore_patterns(".bssrules-cache"))
        for name, old, new in edits:
            path = folder / name
            text = path.read_text(encoding="utf-8")
            assert text.count(old) == 1, f"the example changed: {old!r} is not exactly once in {name}"
            path.write_text(text.replace(old, new), encoding="utf-8")
        return Path("project")

    return make


def lines(folder: Path) -> list[str]:
    """Every diagnostic of a check, as printed (the cache is not used: each test starts cold)."""
    return [str(d) for d in check_project(folder, cache=False).diagnostics]


def where(found: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [(d.file, d.line, d.column, d.code) for d in found]


DUPLICATE_NAME: Edit = ("catalog/offerings.yaml", "    name: Mobile telephony\n",
                        "    name: Mobile telephony\n    name: Mobile plan\n")
BAD_DATE: Edit = ("catalog/offerings.yaml", "validFor: {start: 2024-01-01, end: 2026-07-01}",
                  "validFor: {start: 2024-02-30, end: 2026-07-01}")
UNKNOWN_PRICE: Edit = ("catalog/offerings.yaml", "prices: [classic-phone-price]", "prices: [classic-phone-prise]")


def test_a_project_with_every_kind_of_error_reports_them_all_in_one_run(broken: Broken) -> None:
    folder = broken(
        "devices", DUPLICATE_NAME, BAD_DATE, UNKNOWN_PRICE,
        ("rules/compatibility.yaml", "        target: {resourceSpecification: sim-small}\n      - id: smartphone-refuses",
         "        target: {resourceSpecification: sim-smal}\n      - id: smartphone-refuses"),
        ("rules/compatibility.yaml", "        type: forbidden\n        subject: {resourceSpecification: terminal-smartphone}",
         "        typ: forbidden\n        subject: {resourceSpecification: terminal-smartphone}"),
        ("rules/compatibility.yaml", "[terminal-smartphone, physical-sim-card, sim-small]}\n    expect: {valid: true}",
         "[terminal-smartphone, physical-sim-card, sim-small]}\n    expect: {valid: yes}"),
        ("rules/compatibility.yaml", "expect: {violations: [one-form-factor]}", "expect: {violations: [one-form-factr]}"))
    result = CliRunner().invoke(app, ["check", "--no-cache", str(folder)])
    assert result.exit_code == 1
    fields = ("among, description, id, message, scope, subject, target, type, validFor, when")
    assert result.stderr.splitlines() == [
        "project/catalog/offerings.yaml:7:5: duplicate key 'name' (first at line 6)",
        "project/catalog/offerings.yaml:47:23: '2024-02-30' is not a date (YYYY-MM-DD) or date-time "
        "(YYYY-MM-DDThh:mm:ssZ): February 2024 has 29 days [at $.productOfferings[4].validFor.start]",
        "project/catalog/offerings.yaml:50:14: unknown productOfferingPrice 'classic-phone-prise' "
        "(did you mean 'classic-phone-price'?) [at $.productOfferings[4].prices[0]]",
        "project/rules/compatibility.yaml:15:41: unknown resourceSpecification 'sim-smal' (did you mean 'sim-small'?) "
        "[at $.ruleSets[0].rules[1].target.resourceSpecification]",
        "project/rules/compatibility.yaml:16:9: missing required field 'type' [at $.ruleSets[0].rules[2]]",
        f"project/rules/compatibility.yaml:17:9: unknown field 'typ'; expected one of: {fields} "
        "(did you mean 'type'?) [at $.ruleSets[0].rules[2].typ]",
        "project/rules/compatibility.yaml:52:21: expected true or false for 'valid', got 'yes' "
        "[at $.tests[0].expect.valid]",
        "project/rules/compatibility.yaml:70:27: rule set 'sim-terminal-compatibility' has no rule 'one-form-factr' "
        "(did you mean 'one-form-factor'?) [at $.tests[3].expect.violations[0]]",
        "8 errors",
    ]


def test_a_bad_date_does_not_hide_an_unknown_reference_of_the_same_entity(broken: Broken) -> None:
    found = check_project(broken("devices", BAD_DATE, UNKNOWN_PRICE), cache=False).diagnostics
    assert where(found) == [("project/catalog/offerings.yaml", 46, 23, "invalid"),
                            ("project/catalog/offerings.yaml", 49, 14, "unknownReference")]


def test_an_unknown_field_does_not_hide_a_rule_of_the_entry_or_a_reference(broken: Broken) -> None:
    folder = broken("devices", ("catalog/offerings.yaml", "    lifecycleStatus: Retired\n",
                                "    lifecycleStatus: Retired\n    colour: black\n"), UNKNOWN_PRICE,
                    ("catalog/offerings.yaml", "    channels: [shop]\n", "    channels: [shop, shop]\n"))
    assert [d.message for d in check_project(folder, cache=False).diagnostics] == [
        "channel listed more than once: shop (first at line 44, column 16)",
        "unknown field 'colour'; expected one of: bundle, categories, channels, characteristicUses, description, id, "
        "lifecycleStatus, name, partnerEligible, prices, productSpecification, relationships, sellable, terms, validFor",
        "unknown productOfferingPrice 'classic-phone-prise'"]


def test_an_entity_in_error_is_still_known_by_its_id(broken: Broken) -> None:
    # the category 'devices' is refused, but the offerings in it are not reported
    folder = broken("devices", ("catalog/products.yaml", "  - {id: devices, name: Devices}",
                                "  - {id: devices, name: Devices, lifecycleStatus: Retird}"))
    found = check_project(folder, cache=False).diagnostics
    assert [(d.code, d.suggestion) for d in found] == [("notAllowed", "Retired")]


def test_a_repeated_key_is_reported_once_and_the_rest_of_its_file_is_checked(broken: Broken) -> None:
    found = check_project(broken("devices", DUPLICATE_NAME, UNKNOWN_PRICE), cache=False).diagnostics
    assert [(d.line, d.message) for d in found] == [
        (7, "duplicate key 'name' (first at line 6)"), (50, "unknown productOfferingPrice 'classic-phone-prise'")]


def test_a_file_that_cannot_be_parsed_still_declares_its_ids(broken: Broken) -> None:
    # products.yaml defines the categories, specifications and prices the offerings use
    folder = broken("devices", ("catalog/products.yaml", "  - {id: devices, name: Devices}",
                                "  - {id: devices, name: Devices"), UNKNOWN_PRICE)
    found = check_project(folder, cache=False).diagnostics
    assert where(found) == [("project/catalog/offerings.yaml", 49, 14, "unknownReference"),
                            ("project/catalog/products.yaml", 36, 5, "yamlSyntax")]  # at the unclosed '{'


def test_rules_are_checked_against_a_catalog_that_has_errors(broken: Broken) -> None:
    folder = broken("devices", BAD_DATE, ("rules/discounts.yaml", "combination: [mobile-telephony-plan, ipad-mini-deluxe]",
                                          "combination: [mobile-telephony-plan, ipad-mini-delux]"))
    found = check_project(folder, cache=False).diagnostics
    assert [(d.file, d.message, d.suggestion) for d in found] == [
        ("project/catalog/offerings.yaml", "'2024-02-30' is not a date (YYYY-MM-DD) or date-time "
                                           "(YYYY-MM-DDThh:mm:ssZ): February 2024 has 29 days", None),
        ("project/rules/discounts.yaml", "unknown productOffering 'ipad-mini-delux'", "ipad-mini-deluxe")]


def test_a_rule_set_in_error_still_has_its_other_rules_compiled_and_checked(broken: Broken) -> None:
    folder = broken(
        "devices",
        ("rules/compatibility.yaml", "        type: forbidden\n        subject: {resourceSpecification: terminal-smartphone}",
         "        typ: forbidden\n        subject: {resourceSpecification: terminal-smartphone}"),
        ("rules/compatibility.yaml", "        subject: {resourceSpecification: terminal-ipad-mini}",
         "        subject: {resourceSpecification: terminal-ipad-mni}"),
        ("rules/compatibility.yaml", "        validFor: {end: 2026-07-01}", "        validFor: {end: 2026-07-01}\n"
                                                                       "        when: {party.clasification: GOLD}"))
    found = check_project(folder, cache=False).diagnostics
    assert [(d.line, d.code, d.suggestion) for d in found] == [
        (16, "missingField", None), (17, "unknownField", "type"),  # the rule in error
        (23, "unknownReference", "terminal-ipad-mini"),  # the rules after it, at their own lines
        (31, "invalidRule", "party.classification")]
    assert "ruleSets[0].rules[4].when" in str(found[-1])


def test_an_unknown_rules_section_is_reported_as_one_of_a_rules_file(broken: Broken) -> None:
    folder = broken("devices", ("rules/discounts.yaml", "ruleSets:\n", "rulesets:\n"))
    found = check_project(folder, cache=False).diagnostics
    # reported once: the tests of what it defines are not reported as of unknown rule sets
    assert [(d.line, d.message, d.suggestion) for d in found] == [
        (3, "unknown section 'rulesets'; expected one of: formatVersion, ruleSets, tests", "ruleSets")]


def test_every_error_is_reported_once(broken: Broken) -> None:
    # the same id missing twice on one entry: the file's schema and the rule set's both require it
    folder = broken("devices", ("rules/discounts.yaml", "  - id: device-discounts\n", "  - \n"))
    found = lines(folder)
    assert found and max(Counter(found).values()) == 1


# ----------------------------------------------------------------------------- rule tests


def rule_test(expect: str, rule_set: str = "sim-terminal-compatibility", extra: str = "") -> Edit:
    return ("rules/compatibility.yaml", "    expect: {valid: false, violations: [one-ipad-memory-size]}",
            f"    expect: {expect}{extra}" if rule_set == "tablet-options" else
            f"    expect: {{valid: false, violations: [one-ipad-memory-size]}}\n  - name: written\n"
            f"    ruleSet: {rule_set}\n{extra}    expect: {expect}")


@pytest.mark.parametrize(("expect", "message", "suggestion"), [
    ("{valid: yes}", "expected true or false for 'valid', got 'yes'", None),
    ("{valid: true, violation: [one-form-factor]}", "'violation' cannot be expected of a compatibility decision",
     "violations"),
    ("{payer: someone}", "'payer' cannot be expected of a compatibility decision; use one of: valid, violations",
     None),
    ("{violations: one-form-factor}", "expected a list of rule ids for 'violations', got 'one-form-factor'", None),
    ("{violations: [one-form-factor, sim-large]}",
     "rule set 'sim-terminal-compatibility' has no rule 'sim-large'", None),
], ids=["type", "misspelt-key", "key-of-another-kind", "not-a-list", "unknown-rule"])
def test_what_a_rule_test_expects_is_checked_against_its_rule_set(broken: Broken, expect: str, message: str,
                                                                 suggestion: str | None) -> None:
    found = check_project(broken("devices", rule_test(expect)), cache=False).diagnostics
    assert [(d.message, d.suggestion, d.code) for d in found] == [(message, suggestion, "testCannotPass")]
    assert found[0].path[:3] == ("tests", 7, "expect")


@pytest.mark.parametrize(("given", "message", "suggestion"), [
    ("    given: {present: {resourceSpecification: [sim-small]}}\n",
     "unknown fact attribute 'present.resourceSpecification'", "present.resourceSpecifications"),
    ("    given: {present: {resourceSpecifications: sim-small}}\n",
     "present.resourceSpecifications: expected a list of ids, got 'sim-small'", None),
    ("    asOf: 2026-13-01\n", "'2026-13-01' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): there is no month 13", None),
], ids=["unknown-fact", "fact-type", "as-of"])
def test_the_facts_of_a_rule_test_are_checked_against_the_fact_model(broken: Broken, given: str, message: str,
                                                                    suggestion: str | None) -> None:
    found = check_project(broken("devices", rule_test("{valid: true}", extra=given)), cache=False).diagnostics
    assert [(d.message, d.suggestion, d.code) for d in found] == [(message, suggestion, "testCannotPass")]


def test_a_usage_test_expects_a_status_and_an_amount_of_their_types() -> None:
    from bssrules.rules.testing import expectation_findings

    found = expectation_findings("usage", {"status": "rate", "amount": "0.05", "rule": "peak"}, {"peak", "off"},
                                 "ppv")
    assert found == [(("expect", "status"), "expected rated or rejected for 'status', got 'rate'", "rated"),
                     (("expect", "amount"), "expected a number for 'amount', got '0.05'", None)]


def test_a_test_that_cannot_pass_fails_check_but_still_loads_and_fails_when_run(broken: Broken) -> None:
    folder = broken("devices", rule_test("{valid: yes}", rule_set="tablet-options"))
    runner = CliRunner()
    checked = runner.invoke(app, ["check", "--no-cache", str(folder)])
    assert checked.exit_code == 1 and "expected true or false for 'valid', got 'yes'" in checked.stderr
    project = load_project(folder)
    assert [d.code for d in project.test_errors] == ["testCannotPass"]
    tested = runner.invoke(app, ["test", str(folder)])
    assert tested.exit_code == 1 and "expected valid yes, got false" in tested.stdout


def test_every_kind_of_decision_says_what_its_rule_tests_may_expect() -> None:
    outcomes: dict[str, dict[str, Any]] = {
        "eligibility": {"qualified": True, "reasons": []}, "compatibility": {"valid": True, "violations": []},
        "usage": {"status": "rated", "rule": "r", "rate": {"amount": 1}}, "splitBilling": {"payer": "p", "rule": "r"},
        "settlement": {"lines": []}, "routing": {"assignTo": "a", "rule": "r"}, "discount": {"discounts": []},
        "sla": {"violated": False, "violations": []}}
    assert set(outcomes) == set(EXPECTATIONS)
    for kind, outcome in outcomes.items():
        assert set(summary(Decision("r", 1, kind, outcome, []))) == set(EXPECTATIONS[kind]), kind
