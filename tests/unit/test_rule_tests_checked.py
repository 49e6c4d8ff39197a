"""``bssrules check`` holds a rule test to what it can mean (a catalog manager's review): the
period of an accumulator total is a calendar month or day, and the errors of a test are
reported in the same run as a misspelt ``kind`` of its rule set, not a run later.

Before, a total for ``2026-13`` passed the check (rating counted nothing there, and an expected
total for it could only fail), and a misspelt ``kind`` hid every error of the tests of that
rule set until it was fixed.
"""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.errors import InvalidSource
from bssrules.rules.project import load_project_texts

from tests.unit.rules.conftest import catalog_texts

USAGE = """\
ruleSets:
  - id: mobile
    kind: {kind}
    accumulators:
      - id: budget
        measure: amount
        thresholds:
          - {{id: warn, at: 8, action: notify}}
    rules:
      - id: home
        when: {{usage.service: data}}
        rate: {{amount: 0.01, currency: EUR, per: MB}}
tests:
  - name: played
    ruleSet: mobile
"""
RECORD = "      - {id: r1, service: data, unit: MB, volume: 1, start: 2026-06-10T08:00:00Z}\n"


def played(body: str, kind: str = "usage") -> str:
    """A rules file of one usage rule set and one test that plays records; ``body`` is the
    rest of the test, from line 16."""
    return USAGE.format(kind=kind) + body


def errors(text: str) -> list[str]:
    """Every error ``bssrules check`` finds in a project of that rules file beside the devices
    catalog, as printed: those that refuse the project, or else those of its rule tests."""
    texts = dict(catalog_texts("devices"))
    texts["rules.yaml"] = text
    try:
        found = load_project_texts(texts).test_errors
    except InvalidSource as refused:
        found = refused.diagnostics
    return [str(d) for d in found if d.severity == "error"]


# ------------------------------------------------------------- periods


def test_a_total_given_for_a_month_that_is_not_in_the_calendar_is_an_error_at_its_period() -> None:
    assert errors(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-13, amount: 4.00}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
""")) == ["rules.yaml:17:39: expected a month (YYYY-MM) or a day (YYYY-MM-DD), got '2026-13': there is no "
         "month 13 [at $.tests[0].accumulators[0].period]"]


def test_a_total_given_for_a_day_that_is_not_in_the_calendar_is_an_error_at_its_period() -> None:
    assert errors(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-06-10, amount: 1}
      - {accumulator: budget, period: 2026-02-29, amount: 4.00}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
""")) == ["rules.yaml:18:39: expected a month (YYYY-MM) or a day (YYYY-MM-DD), got '2026-02-29': 2026-02 has "
         "no day 29 [at $.tests[0].accumulators[1].period]"]


def test_an_expected_total_for_a_period_that_is_not_in_the_calendar_is_an_error_at_its_period() -> None:
    assert errors(played("""\
    records:
""" + RECORD + """\
    expect:
      accumulators:
        - {accumulator: budget, period: 2026-06, amount: 0.01}
        - {accumulator: budget, period: 2026-00, amount: 0}
        - {accumulator: budget, period: 2026-06-31}
""")) == [
        "rules.yaml:21:41: expected a month (YYYY-MM) or a day (YYYY-MM-DD) for 'period', got '2026-00': there is "
        "no month 0 [at $.tests[0].expect.accumulators[1].period]",
        "rules.yaml:22:41: expected a month (YYYY-MM) or a day (YYYY-MM-DD) for 'period', got '2026-06-31': "
        "2026-06 has no day 31 [at $.tests[0].expect.accumulators[2].period]"]


def test_bssrules_test_fails_a_test_with_a_period_not_in_the_calendar_saying_it_at_its_place(tmp_path: Path) -> None:
    # (its only errors are said as ones the test cannot pass: it is run, and its run must fail)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-13, amount: 4.00}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
  - name: expected
    ruleSet: mobile
    records:
""" + RECORD + """\
    expect:
      accumulators:
        - {accumulator: budget, period: 2026-06-31}
"""), encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert result.exit_code == 1, result.output
    rules = tmp_path / "rules" / "rules.yaml"
    assert result.output.splitlines() == [
        f"FAIL {rules}:14: played",
        f"     {rules}:17:39: expected a month (YYYY-MM) or a day (YYYY-MM-DD), got '2026-13': there is no month 13 "
        "[at $.tests[0].accumulators[0].period]",
        f"FAIL {rules}:21: expected",
        f"     {rules}:27:41: expected a month (YYYY-MM) or a day (YYYY-MM-DD) for 'period', got '2026-06-31': "
        "2026-06 has no day 31 [at $.tests[1].expect.accumulators[0].period]",
        "0 passed, 2 failed"]


def test_calendar_periods_pass_the_check_leap_days_too() -> None:
    texts = dict(catalog_texts("devices"))
    texts["rules.yaml"] = played("""\
    accumulators:
      - {accumulator: budget, period: 2028-02-29, amount: 1}
      - {accumulator: budget, period: 2026-12, amount: 1}
    records:
""" + RECORD + """\
    expect:
      accumulators:
        - {accumulator: budget, period: 2026-06, amount: 0.01}
        - {accumulator: budget, period: 2026-12, amount: 1}
""")
    assert load_project_texts(texts).rules.tests


# ------------------------------------------------------------- a misspelt kind


TESTED = """\
ruleSets:
  - id: mobile
    kind: {usage}
    accumulators:
      - id: budget
        measure: amount
    rules:
      - id: home
        when: {{usage.service: data}}
        rate: {{amount: 0.01, currency: EUR, per: MB}}
  - id: adults
    kind: {eligibility}
    rules:
      - id: of-age
        offerings: [ipad-mini-std]
        when: {{party.age: {{lt: 18}}}}
        reason: {{code: minor, label: Minor}}
tests:
  - name: played
    ruleSet: mobile
    accumulators:
      - {{accumulator: budgt, period: 2026-06, amount: 4.00}}
    records:
      - {{id: r1, service: data, unit: MB, volume: 1, start: 2026-06-10T08:00:00Z}}
    expect:
      records:
        r1: {{charge: 0.01, chrge: 1}}
        r2: {{charge: 0.01}}
  - name: decided
    ruleSet: adults
    given: {{party: {{age: 3}}}}
    expect: {{qualifed: false, rules: [of-ag]}}
"""
TESTS_ERRORS = [
    "rules.yaml:22:23: rule set 'mobile' has no accumulator 'budgt' (did you mean 'budget'?) "
    "[at $.tests[0].accumulators[0].accumulator]",
    "rules.yaml:27:35: 'chrge' cannot be expected of a rated record (did you mean 'charge'?) "
    "[at $.tests[0].expect.records.r1.chrge]",
    "rules.yaml:28:9: the test plays no record 'r2' [at $.tests[0].expect.records.r2]",
    "rules.yaml:32:24: 'qualifed' cannot be expected of an eligibility decision (did you mean 'qualified'?) "
    "[at $.tests[1].expect.qualifed]",
    "rules.yaml:32:39: rule set 'adults' has no rule 'of-ag' (did you mean 'of-age'?) [at $.tests[1].expect.rules[0]]"]


def kind_error(line: int, index: int, written: str, meant: str | None) -> str:
    return (f"rules.yaml:{line}:11: '{written}' is not allowed here; expected one of: eligibility, compatibility, "
            "usage, splitBilling, sla, discount, routing, settlement"
            + (f" (did you mean '{meant}'?)" if meant else "") + f" [at $.ruleSets[{index}].kind]")


def test_the_errors_of_rule_tests_are_found_against_rule_sets_of_the_right_kinds() -> None:
    assert errors(TESTED.format(usage="usage", eligibility="eligibility")) == TESTS_ERRORS


def test_a_misspelt_kind_of_a_rule_set_does_not_hide_the_errors_of_its_tests() -> None:
    # (checked against the kind the misspelling seems to mean: fixing it as suggested brings no new error)
    assert sorted(errors(TESTED.format(usage="usgae", eligibility="eligibilty"))) == sorted(
        [kind_error(3, 0, "usgae", "usage"), kind_error(12, 1, "eligibilty", "eligibility")] + TESTS_ERRORS)


def test_a_test_that_plays_records_is_checked_as_one_of_a_usage_rule_set_whose_kind_is_unrecognisable() -> None:
    found = errors(TESTED.format(usage="metering", eligibility="eligibility"))
    assert sorted(found) == sorted([kind_error(3, 0, "metering", None)] + TESTS_ERRORS)


def test_a_decision_test_of_a_rule_set_of_an_unrecognisable_kind_is_left_to_the_error_of_the_kind() -> None:
    # (after a test that plays records: the accumulators of its rule set were taken for the rule sets named)
    text = TESTED.format(usage="usage", eligibility="elig") + """\
  - name: after a rating test
    ruleSet: adults
    given: {party: {age: 3}}
    expect: {qualified: false}
"""
    assert sorted(errors(text)) == sorted([kind_error(12, 1, "elig", None)] + TESTS_ERRORS[:3])


def test_a_period_not_in_the_calendar_is_said_with_the_other_errors_of_its_test() -> None:
    assert errors(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-13, amount: 4.00}
    records:
      - {id: r1, service: data, unit: MB, volume: ten, start: 2026-06-10T08:00:00Z}
    expect: {records: {r1: {charge: 0.01}}}
""")) == [
        "rules.yaml:17:39: expected a month (YYYY-MM) or a day (YYYY-MM-DD), got '2026-13': there is no month 13 "
        "[at $.tests[0].accumulators[0].period]",
        "rules.yaml:19:51: expected an exact decimal amount such as 12.50, got 'ten' [at $.tests[0].records[0].volume]"]


# ------------------------------------------------------------- repeated totals


def test_a_total_given_twice_is_an_error_at_the_second_naming_where_the_first_is() -> None:
    assert errors(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-06, amount: 4.00}
      - {accumulator: budget, period: 2026-07, amount: 1.00}
      - {accumulator: budget, period: 2026-06, amount: 5.00}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
""")) == ["rules.yaml:19:9: accumulator total listed more than once: budget 2026-06 (first at line 17, column 9) "
         "[at $.tests[0].accumulators[2]]"]


def test_a_total_given_twice_is_said_with_the_other_errors_of_its_test() -> None:
    assert errors(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-06, amount: 4.00}
      - {accumulator: budget, period: 2026-06, amount: lots}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
""")) == [
        "rules.yaml:18:9: accumulator total listed more than once: budget 2026-06 (first at line 17, column 9) "
        "[at $.tests[0].accumulators[1]]",
        "rules.yaml:18:56: expected an exact decimal amount such as 12.50, got 'lots' [at $.tests[0].accumulators[1].amount]"]


def test_bssrules_test_does_not_run_a_test_with_a_total_given_twice(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(played("""\
    accumulators:
      - {accumulator: budget, period: 2026-06, amount: 4.00}
      - {accumulator: budget, period: 2026-06, amount: 5.00}
    records:
""" + RECORD + """\
    expect: {accumulators: [{accumulator: budget, period: 2026-06, amount: 5.01}]}
"""), encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    rules = tmp_path / "rules" / "rules.yaml"
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"FAIL {rules}:14: played",
        f"     {rules}:18:9: accumulator total listed more than once: budget 2026-06 (first at line 17, column 9) "
        "[at $.tests[0].accumulators[1]]",
        "0 passed, 1 failed"]


# ------------------------------------------------------------- the subscriber's offerings


def test_an_offering_of_a_subscriber_that_the_catalog_does_not_have_is_an_error_with_the_id_meant() -> None:
    assert errors(played("""\
    subscriber: {offering: ipad-mini-st, activeOfferings: [mobile-telephony-plan, extra-minute]}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
""")) == [
        "rules.yaml:16:28: unknown productOffering 'ipad-mini-st' (did you mean 'ipad-mini-std'?) "
        "[at $.tests[0].subscriber.offering]",
        "rules.yaml:16:83: unknown productOffering 'extra-minute' (did you mean 'extra-minutes'?) "
        "[at $.tests[0].subscriber.activeOfferings[1]]"]


def test_the_offerings_of_a_subscriber_are_checked_with_the_other_errors_of_its_test() -> None:
    found = errors(played("""\
    subscriber: {offering: ipad-mini-st, payers: holder}
    records:
""" + RECORD + """\
    expect: {records: {r1: {charge: 0.01}}}
"""))
    assert "rules.yaml:16:28: unknown productOffering 'ipad-mini-st' (did you mean 'ipad-mini-std'?) " \
           "[at $.tests[0].subscriber.offering]" in found and len(found) == 2, found
