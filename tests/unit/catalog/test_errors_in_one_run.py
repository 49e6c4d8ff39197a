"""A catalog file with several errors reports them all in one run: what is right in a list
item in error (a relationship of an unknown type) is still checked against the catalog, and
every value out of bounds or malformed says what was expected and what was written."""
from __future__ import annotations

import pytest

from bssrules.catalog import load_catalog_text
from bssrules.errors import InvalidSource

CATALOG = """\
productSpecifications:
  - id: mobile
    name: Mobile
    characteristics:
      - {{name: lines, valueType: integer, minCardinality: {min}}}
productOfferingPrices:
  - {{id: monthly, name: Monthly, priceType: recurring, recurringPeriod: month, amount: {amount}, currency: {currency}}}
  - {{id: data, name: Data, priceType: usage, unit: GB, amount: 1.00, currency: EUR, unitQuantity: {quantity}}}
productOfferings:
  - id: plan
    name: Plan
    productSpecification: mobile
    prices: [monthly, data]
    relationships:
      - {{type: option, offering: roaming-pack}}
      - {{type: addon, offering: roaming-pak}}
  - {{id: roaming-pack, name: Roaming pack, productSpecification: mobile}}
"""


def errors(**values: str) -> list[tuple[int, int, str, str | None]]:
    fields = {"min": "0", "amount": "10.00", "currency": "EUR", "quantity": "1", **values}
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(CATALOG.format(**fields), "catalog.yaml")
    return [(d.line, d.column, d.message, d.suggestion) for d in caught.value.diagnostics]


def test_a_relationship_of_an_unknown_type_still_names_an_offering_that_must_exist() -> None:
    assert errors() == [
        (16, 16, "'addon' is not allowed here; expected one of: option, addOn, requires, excludes", "addOn"),
        (16, 33, "unknown productOffering 'roaming-pak'", "roaming-pack")]


def test_values_out_of_bounds_or_malformed_say_what_was_expected_and_what_was_written() -> None:
    found = errors(min="-1", amount="twenty", currency="eur", quantity="0")
    assert [(line, message, suggestion) for line, _, message, suggestion in found] == [
        (5, "expected an integer ≥ 0, got -1", None),
        (7, "expected an exact decimal amount such as 12.50, got 'twenty'", None),
        (7, "expected a currency code of three capital letters such as EUR, got 'eur'", "EUR"),
        (8, "expected a number > 0, got 0", None),
        (16, "'addon' is not allowed here; expected one of: option, addOn, requires, excludes", "addOn"),
        (16, "unknown productOffering 'roaming-pak'", "roaming-pack")]


def test_a_negative_amount_is_said_like_any_number_out_of_bounds() -> None:
    assert errors(amount="-5")[0][2] == "expected a number ≥ 0, got -5"


def test_a_misspelt_characteristics_field_does_not_make_the_offerings_uses_errors_of_their_own() -> None:
    text = CATALOG.format(min="0", amount="10.00", currency="EUR", quantity="1").replace(
        "    characteristics:", "    charactxristics:").replace(
        "    prices: [monthly, data]", "    prices: [monthly, data]\n    characteristicUses: [{name: lines, values: [2]}]")
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "catalog.yaml")
    assert [(d.message.split(";")[0], d.suggestion) for d in caught.value.diagnostics] == [
        ("unknown field 'charactxristics'", "characteristics"),
        ("'addon' is not allowed here", "addOn"),
        ("unknown productOffering 'roaming-pak'", "roaming-pack")]


def test_a_value_that_is_not_one_of_those_allowed_is_said_once() -> None:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text("formatVersion: one\ncategories: []\n", "catalog.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        "catalog.yaml:1:16: 'one' is not allowed here; expected one of: 1 [at $.formatVersion]"]
