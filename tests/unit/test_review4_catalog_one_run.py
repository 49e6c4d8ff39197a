"""Every error of a catalog entity comes in one run (a catalog manager's review, F2 and F12):
a repeated entry no longer hides the entity's own rules nor the repeated entry's own errors,
and a price in error still has its allowances' units and usage types checked."""
from __future__ import annotations

import pytest

from bssrules.catalog.loader import load_catalog_text
from bssrules.errors import Diagnostic, InvalidSource


def _diagnostics(text: str) -> list[Diagnostic]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "c.yaml")
    return list(caught.value.diagnostics)


def _said(text: str) -> list[tuple[int, int, str]]:
    found = [(d.line, d.column, d.message) for d in _diagnostics(text)]
    assert len(found) == len(set(found)), f"an error said twice: {found}"
    return found


def _at(found: list[tuple[int, int, str]], line: int, words: str) -> bool:
    return any(at == line and words in message for at, _, message in found)


ALLOWANCES = """\
productSpecifications:
  - {id: line, name: Line}
productOfferingPrices:
  - id: m
    name: Monthly
    priceType: recurring
    recurringPeriod: month
    amount: 12.00
    currency: CURRENCY
    allowances:
      - {id: included-data, name: Data, amount: 3, unit: GB, usageTypes: [data]}
      - id: included-data
        name: More data
        amount: -1
        unit: Gb
        usageTypes: [data, dta, data]
  - {id: data-mb, name: Data, priceType: usage, usageType: data, unit: MB, amount: 0.01, currency: EUR}
"""


def test_a_repeated_allowance_shows_all_its_errors_at_once() -> None:
    found = _said(ALLOWANCES.replace("CURRENCY", "EUR"))
    assert _at(found, 12, "allowance id listed more than once: included-data")
    assert _at(found, 14, "expected a number > 0, got -1")
    assert _at(found, 15, "unknown unit 'Gb'")
    assert _at(found, 16, "unknown usage type 'dta'")
    assert _at(found, 16, "usage type of 'included-data' listed more than once: data")
    assert len(found) == 5


def test_a_wrong_currency_does_not_hide_an_allowance_unit() -> None:
    text = ALLOWANCES.replace("CURRENCY", "EURO").replace("""      - id: included-data
        name: More data
        amount: -1
        unit: Gb
        usageTypes: [data, dta, data]
""", "").replace("unit: GB", "unit: Gb")
    found = _said(text)
    assert _at(found, 9, "EURO")
    assert _at(found, 11, "unknown unit 'Gb'")
    assert len(found) == 2


def test_a_valid_price_with_a_wrong_allowance_unit_is_said_once() -> None:
    text = ALLOWANCES.replace("CURRENCY", "EUR").replace("""      - id: included-data
        name: More data
        amount: -1
        unit: Gb
        usageTypes: [data, dta, data]
""", "").replace("unit: GB", "unit: Gb")
    found = _said(text)
    assert [(line, "unknown unit 'Gb'" in message) for line, _, message in found] == [(11, True)]


ENTITY_RULES = """\
productOfferingPrices:
  - {id: d, name: D, priceType: usage, usageType: data, unit: MB, amount: 0.01, currency: EUR}
  - id: m
    name: M
    priceType: recurring
    amount: 12.00
    currency: EUR
    allowances:
      - {id: a, name: A, amount: 3, unit: GB, usageTypes: [data, data]}
productSpecifications:
  - id: s
    name: S
    characteristics:
      - {name: c, valueType: integer, values: [1, 2, 1], default: 5}
      - {name: c, valueType: integer, range: {min: 5, max: 1}}
"""


def test_repeated_entries_do_not_hide_the_entity_rules() -> None:
    found = _said(ENTITY_RULES)
    assert _at(found, 3, "a recurring price needs recurringPeriod")
    assert _at(found, 9, "usage type of 'a' listed more than once: data")
    assert _at(found, 14, "default 5 is not one of the values")
    assert _at(found, 14, "value of 'c' listed more than once: 1")
    assert _at(found, 15, "characteristic name listed more than once: c")
    assert _at(found, 15, "range min 5 is greater than max 1")
    assert len(found) == 6


@pytest.mark.parametrize("offering", ["{id: o1, name: O1, channels: [web, web]}",
                                      "{id: o1, name: O1, prices: [p1, p1]}"], ids=["channel", "price"])
def test_a_repeated_entry_does_not_hide_a_missing_specification(offering: str) -> None:
    found = _said(f"""\
productOfferings:
  - {offering}
productOfferingPrices:
  - {{id: p1, name: P1, priceType: oneTime, amount: 1, currency: EUR}}
""")
    assert _at(found, 2, "an offering needs a productSpecification, or a bundle of offerings")
    assert _at(found, 2, "listed more than once")
    assert len(found) == 2


def test_the_errors_are_at_the_written_place_once_entries_are_set_aside() -> None:
    # the repeated characteristic comes first: the one after it keeps its own line
    found = _said("""\
productSpecifications:
  - id: s
    name: S
    characteristics:
      - {name: a, valueType: integer}
      - {name: a, valueType: integer}
      - {name: b, valueType: integer, values: [1, 2, 2], default: 7}
""")
    assert _at(found, 6, "characteristic name listed more than once: a")
    assert _at(found, 7, "value of 'b' listed more than once: 2")
    assert _at(found, 7, "default 7 is not one of the values")
    assert len(found) == 3


def test_a_valid_entity_is_still_valid() -> None:
    catalog = load_catalog_text(ENTITY_RULES.replace("priceType: recurring", "priceType: recurring\n    "
                                                     "recurringPeriod: month").replace("[data, data]", "[data]")
                                .replace("[1, 2, 1], default: 5", "[1, 2], default: 2")
                                .replace("{name: c, valueType: integer, range: {min: 5, max: 1}}",
                                         "{name: c2, valueType: integer, range: {min: 1, max: 5}}"))
    assert catalog.get("productOfferingPrice", "m") is not None


def test_a_price_says_its_decimals_and_its_fields_at_once() -> None:
    found = _said("""\
productOfferingPrices:
  - {id: o, name: O, priceType: oneTime, amount: 1.001, currency: EUR, unit: MB}
""")
    assert [message for _, _, message in found] == [
        "amount 1.001 has more decimals than EUR has (2); only usage rates may be finer",
        "unit and unitQuantity apply to usage prices, not oneTime"]
    assert {(line, column) for line, column, _ in found} == {(2, 5)}


def test_a_price_with_one_shape_error_says_it_once() -> None:
    found = _said("productOfferingPrices:\n  - {id: o, name: O, priceType: oneTime, amount: 1.00, currency: EUR, unit: MB}\n")
    assert [message for _, _, message in found] == ["unit and unitQuantity apply to usage prices, not oneTime"]


USES = """\
productSpecifications:
  - id: s
    name: S
    characteristics:
      - {name: size, valueType: string, values: [a, b]}
productOfferings:
  - id: o
    name: O
    productSpecification: s
    characteristicUses:
      - {name: size, values: [a]}
      - SECOND
      - {name: colour, values: [a]}
"""


def test_a_repeated_characteristic_use_is_still_checked_and_the_next_keeps_its_line() -> None:
    found = _said(USES.replace("SECOND", "{name: size, values: [z]}"))
    assert _at(found, 12, "characteristicUse listed more than once: size")
    assert _at(found, 12, "value 'z' is not one of the values of 'size'")
    assert _at(found, 13, "productSpecification 's' has no characteristic 'colour'")
    assert len(found) == 3


def test_a_use_set_aside_for_its_own_error_moves_no_other_error() -> None:
    found = _said(USES.replace("SECOND", "{name: size, values: [{x: 1}]}"))
    assert not any(line == 12 and "colour" in message for line, _, message in found)
    assert all(line in (12, 13) for line, _, _ in found)
