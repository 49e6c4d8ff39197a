"""A rules file with several errors reports them all in one run: schema errors and the
checks of references, repetitions and order alike, each on every part that passed the
schema (not only when the whole file did); messages say what was expected and what was
written, with a "did you mean" where something close exists.

Rules are loaded beside the devices example catalog (``rules.yaml``), see conftest.py.
"""
from __future__ import annotations

from pathlib import Path

from bssrules.errors import Diagnostic
from bssrules.rules.project import check_file, check_project


def shown(found: list[Diagnostic]) -> list[str]:
    return [str(d) for d in found]


ELIGIBILITY = """\
ruleSets:
  - id: adults
    kind: eligibility
    rules:
{rules}
"""


def eligibility(*rules: str) -> str:
    return ELIGIBILITY.format(rules="\n".join(rules))


def test_a_rule_in_error_still_counts_for_a_repeated_rule_id(rule_diagnostics) -> None:
    found = rule_diagnostics(eligibility(
        "      - id: r1",
        "        when: {party.age: {gte: 18}}",
        "      - id: r1",
        "        when: {party.age: {gte: 21}}",
        "        reason: {code: adultsOnly, label: Adults only}"))
    assert shown(found) == [
        "rules.yaml:5:9: missing required field 'reason' [at $.ruleSets[0].rules[0]]",
        "rules.yaml:7:13: duplicate rule id 'r1' (first defined at line 5) [at $.ruleSets[0].rules[1].id]"]


def test_the_valid_fields_of_a_rule_in_error_are_still_checked_against_the_catalog(rule_diagnostics) -> None:
    found = rule_diagnostics(eligibility(
        "      - id: r1",
        "        offerings: smartphone",
        "        alternate: smartphon",
        "        when: {inventory.activeOfferings: {contains: mobile-telephony}}",
        "        reason: {code: adultsOnly, label: Adults only}"))
    assert shown(found) == [
        "rules.yaml:6:20: expected a list, got 'smartphone' [at $.ruleSets[0].rules[0].offerings]",
        "rules.yaml:7:20: unknown productOffering 'smartphon' (did you mean 'smartphone'?) "
        "[at $.ruleSets[0].rules[0].alternate]",
        "rules.yaml:8:54: unknown productOffering 'mobile-telephony' (did you mean 'mobile-telephony-plan'?) "
        "[at $.ruleSets[0].rules[0].when.inventory.activeOfferings.contains]"]


def test_the_condition_of_a_rule_in_error_is_still_read(rule_diagnostics) -> None:
    found = rule_diagnostics(eligibility(
        "      - id: r1",
        "        when: {party.clasification: VIP}",
        "        reason: {code: 1}",
        "      - id: r2",
        "        when: {party.age: {gte: 18}}",
        "        reason: {code: adultsOnly, label: Adults only}"))
    assert [(d.line, d.column, d.message, d.suggestion) for d in found] == [
        (6, 16, "unknown attribute 'party.clasification'", "party.classification"),
        (7, 9, "missing required field 'label'", None),
        (7, 24, "expected a string, got 1", None)]


USAGE = """\
ruleSets:
  - id: data-rates
    kind: usage
    rules:
      - id: data
        when: {{usage.type: data}}
        rate: {rate}
{more}"""


def test_tiers_out_of_order_and_a_bounded_last_tier_are_both_said_at_once(rule_diagnostics) -> None:
    found = rule_diagnostics(USAGE.format(
        rate="{currency: EUR, per: GB, tiers: [{upTo: 10, amount: 2.00}, {upTo: 5, amount: 1.00}]}", more=""))
    assert [d.message for d in found] == ["only the last tier may (and must) have no upTo",
                                          "tier limits (upTo) must increase"]
    assert {(d.line, d.column) for d in found} == {(7, 40)}


def test_tiers_are_checked_in_a_rule_set_with_another_error(rule_diagnostics) -> None:
    found = rule_diagnostics(USAGE.format(
        rate="{currency: EUR, per: GB, tiers: [{upTo: 10, amount: 2.00}, {upTo: 5, amount: 1.00}, {amount: 0.5}]}",
        more="      - id: voice\n        when: {usage.type: voice}\n        rate: {amount: 1, currency: EUR, pr: min}\n"))
    assert [d.message for d in found] == [
        "tier limits (upTo) must increase",
        "unknown field 'pr'; expected one of: amount, currency, per, price, tierMode, tiers, tiersCount"]


def test_an_asof_that_is_no_date_is_said_with_the_facts_of_the_wrong_type(load_rules) -> None:
    project = load_rules(eligibility(
        "      - id: r1",
        "        when: {party.age: {gte: 18}}",
        "        reason: {code: adultsOnly, label: Adults only}") + """\
tests:
  - name: t
    ruleSet: adults
    asOf: 2026-06-31
    given: {party: {age: lots}}
    expect: {qualified: true}
""")
    assert [(d.line, d.message) for d in project.test_errors] == [
        (11, "'2026-06-31' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): June 2026 has 30 days"),
        (12, "party.age: expected a number, got 'lots'")]


def test_an_unknown_rule_set_of_a_test_suggests_one_in_error_too(rule_diagnostics) -> None:
    text = USAGE.format(rate="{amount: 1, currency: EUR, per: GB, pr: 1}", more="") + """\
  - id: adults
    kind: eligibilty
tests:
  - {name: t, ruleSet: data-ratez, given: {usage: {type: data}}, expect: {rate: 1}}
  - {name: u, ruleSet: adults, given: {party: {age: 3}}, expect: {qualified: true}}
"""
    found = [d for d in rule_diagnostics(text) if d.path[:1] == ("tests",)]
    # the second test names a rule set whose kind is wrong: that error is the rule set's own
    assert [(d.message, d.suggestion) for d in found] == [("unknown rule set 'data-ratez'", "data-rates")]


def test_numbers_out_of_bounds_and_malformed_values_say_what_was_expected(rule_diagnostics) -> None:
    found = rule_diagnostics(USAGE.format(rate="{amount: -5, currency: EUR, per: GB}", more="""\
      - id: voice
        when: {usage.type: voice}
        rate: {amount: twenty, currency: eur, per: min}
"""))
    assert [(d.message, d.suggestion) for d in found] == [
        ("expected a number ≥ 0, got -5", None),
        ("expected an exact decimal amount such as 12.50, got 'twenty'", None),
        ("expected a currency code of three capital letters such as EUR, got 'eur'", "EUR")]


def test_bytes_that_are_not_utf8_are_reported_at_the_bad_byte() -> None:
    data = "ruleSets:\n  - id: caf\u00e9-\u00e9\n".encode("utf-8").replace(b"-\xc3\xa9", b"-\xe9")
    check, _ = check_file("rules.yaml", data)
    # line 2 is "  - id: café-\xe9": the bad byte is its 14th character (é counts as one)
    assert [(d.line, d.column, d.message) for d in check.diagnostics] == [
        (2, 14, "not UTF-8 text: byte 0xe9 (invalid continuation byte); save the file as UTF-8")]


def test_a_file_that_is_not_utf8_is_reported_at_the_bad_byte_in_a_project(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "rules.yaml").write_bytes(b"# rules\ntests:\n  - name: \xff\n")
    [diagnostic] = check_project(Path("p"), cache=False).diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("p/rules.yaml", 3, 11)


def test_a_file_that_is_not_a_mapping_is_reported_where_its_content_starts_not_at_its_comments() -> None:
    check, _ = check_file("rules.yaml", b"# the rules of the shop\n\n- id: adults\n  kind: eligibility\n")
    assert check.catalog is not None
    assert [(d.line, d.column, d.message) for d in check.catalog.diagnostics] == [
        (3, 1, "expected a mapping, got a list")]


def test_a_section_of_the_wrong_type_is_reported_at_its_key_or_value() -> None:
    check, _ = check_file("rules.yaml", b"# rules\nruleSets:\n  id: adults\ntests: 5\n")
    assert check.rules is not None
    assert [(d.line, d.column, d.message) for d in check.rules.diagnostics] == [
        (2, 1, "expected a list, got a mapping"), (4, 8, "expected a list, got 5")]


def test_what_only_the_models_refuse_is_said_in_the_words_of_the_schema_errors() -> None:
    from pydantic import ValidationError

    from bssrules.catalog.model import ProductOfferingPrice
    from bssrules.schema_errors import pydantic_diagnostics
    from bssrules.yaml_source import parse_text

    text = ("{id: p, name: P, priceType: usage, recurringPeriod: mnth, unit: GB, unitQuantity: x, "
            "amount: 1.123456789, currency: EUR}\n")
    doc, _ = parse_text(text, "prices.yaml", located=True)
    assert doc is not None
    try:
        ProductOfferingPrice.model_validate(doc.data)
    except ValidationError as exc:
        found = pydantic_diagnostics(exc, doc, ())
    assert sorted((d.path, d.message, d.suggestion) for d in found) == [
        (("amount",), "expected a number of at most 8 decimal places, got 1.123456789", None),
        (("recurringPeriod",), "'mnth' is not allowed here; expected one of: day, week, month, year", "month"),
        (("unitQuantity",), "expected a number, got 'x'", None)]


def test_the_facts_of_a_test_in_error_are_still_checked(rule_diagnostics) -> None:
    found = rule_diagnostics(eligibility(
        "      - id: r1",
        "        when: {party.age: {gte: 18}}",
        "        reason: {code: adultsOnly, label: Adults only}") + """\
tests:
  - name: t
    ruleSet: adults
    asOf: 2026-06-31
    given: {party: {age: lots, clasification: VIP}}
    expekt: {qualified: true}
""")
    assert [(d.line, d.message.split(";")[0], d.suggestion) for d in found] == [
        (9, "missing required field 'expect'", None),
        (11, "'2026-06-31' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): June 2026 has 30 days", None),
        (12, "party.age: expected a number, got 'lots'", None),
        (12, "unknown fact attribute 'party.clasification'", "party.classification"),
        (13, "unknown field 'expekt'", "expect")]


def test_a_currency_in_small_letters_refused_by_a_model_suggests_capitals() -> None:
    from pydantic import ValidationError

    from bssrules.rules.model import Rate
    from bssrules.schema_errors import pydantic_diagnostics
    from bssrules.yaml_source import parse_text

    doc, _ = parse_text("{amount: 1, currency: eur}\n", "rate.yaml", located=True)
    assert doc is not None
    try:
        Rate.model_validate(doc.data)
    except ValidationError as exc:
        found = pydantic_diagnostics(exc, doc, ())
    assert [(d.column, d.message, d.suggestion) for d in found] == [
        (23, "expected a currency code of three capital letters such as EUR, got 'eur'", "EUR")]


def test_a_section_given_by_an_alias_is_reported_at_its_key_not_at_the_anchor() -> None:
    check, _ = check_file("rules.yaml", b"formatVersion: &one 1\nruleSets: *one\n")
    assert check.rules is not None
    assert [(d.line, d.column, d.message) for d in check.rules.diagnostics] == [(2, 1, "expected a list, got 1")]
