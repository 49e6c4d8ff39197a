"""A repeated entry of a catalog entity (a term, an allowance, a characteristic of the same
name, a price listed twice) is reported in the same run as the entity's other errors, at
the repeated entry itself, naming where the first one is."""
from __future__ import annotations

import pytest

from bssrules.catalog import load_catalog_text
from bssrules.errors import InvalidSource

CATALOG = """\
productSpecifications:
  - id: line
    name: Line
    characteristics:
      - name: speed
        valueType: integer
      - name: speed
        valueType: integer
productOfferingPrices:
  - id: monthly
    name: Monthly
    priceType: recurring
    recurringPeriod: month
    amount: 12.00
    currency: EUR
    allowances:
      - {id: a1, name: A, amount: 3, unit: GB, usageTypes: [data]}
      - {id: a1, name: B, amount: 3, unit: GB, usageTypes: [data, data]}
  - {id: per-mb, name: Data, priceType: usage, usageType: data, unit: MB, amount: 0.01, currency: EUR}
productOfferings:
  - id: plan
    name: Plan
    productSpecification: line
    sellable: maybe
    prices: [monthly, monthly, per-mbx]
    terms:
      - {name: t, duration: {amount: 12, units: month}, atEnd: renew}
      - {name: t, duration: {amount: 12, units: month}, atEnd: renew}
"""


def diagnostics(text: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "catalog.yaml")
    return [f"{d.line}:{d.column}: {d.message}" for d in caught.value.diagnostics]


def test_repeated_entries_are_reported_with_a_type_error_of_the_same_entity_at_the_repeated_entry() -> None:
    assert sorted(diagnostics(CATALOG), key=lambda d: tuple(map(int, d.split(":")[:2]))) == [
        "7:15: characteristic name listed more than once: speed (first at line 5, column 15)",
        "18:14: allowance id listed more than once: a1 (first at line 17, column 14)",
        "18:67: usage type of 'a1' listed more than once: data (first at line 18, column 61)",
        "24:15: expected true or false, got 'maybe'",
        "25:23: price listed more than once: monthly (first at line 25, column 14)",
        "25:32: unknown productOfferingPrice 'per-mbx'",
        "28:16: term listed more than once: t (first at line 27, column 16)",
    ]


def test_a_repeated_term_of_an_otherwise_valid_offering_is_said_once_at_the_repeated_term() -> None:
    text = CATALOG.replace("    sellable: maybe\n", "").replace("monthly, monthly, per-mbx", "monthly, per-mb")
    found = [d for d in diagnostics(text) if "term" in d]
    assert found == ["27:16: term listed more than once: t (first at line 26, column 16)"]


def test_a_repeated_value_does_not_hide_a_value_of_the_wrong_type() -> None:
    text = ("productSpecifications:\n  - id: s\n    name: S\n    characteristics:\n"
            "      - {name: speed, valueType: integer, values: [1, 2, 1.0, x]}\n")
    assert diagnostics(text) == ["5:9: value 'x' is not of valueType integer",
                                 "5:9: value 1.0 is not of valueType integer",
                                 "5:58: value of 'speed' listed more than once: 1.0 (first at line 5, column 52)"]
