"""A characteristic value that is no value, and an amount of too many digits, are said once,
at the value, in the words of the valueType and of the docs (no pydantic paths)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bssrules.catalog.loader import load_catalog_text
from bssrules.catalog.model import Characteristic
from bssrules.errors import InvalidSource

SPEC = """\
productSpecifications:
  - id: s
    name: S
    characteristics:
      - {name: c, valueType: VT, VALS}
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "c.yaml")
    return [str(d) for d in caught.value.diagnostics]


@pytest.mark.parametrize(("value_type", "values", "expected"), [
    ("number", "values: [.nan]", "5:47: expected a finite number, got nan [at $.productSpecifications[0]"
                                 ".characteristics[0].values[0]]"),
    ("number", "values: [1e400]", "5:47: expected a number of at most 15 digits before the point, got 1E+400 "
                                  "[at $.productSpecifications[0].characteristics[0].values[0]]"),
    ("number", "values: [{a: 1}]", "5:47: expected a number, got a mapping "
                                   "[at $.productSpecifications[0].characteristics[0].values[0]]"),
    ("integer", "default: [1]", "5:39: expected an integer, got a list "
                                "[at $.productSpecifications[0].characteristics[0].default]"),
    ("string", "values: [null]", "5:47: expected text, got nothing "
                                 "[at $.productSpecifications[0].characteristics[0].values[0]]"),
    ("boolean", "values: [[]]", "5:48: expected true or false, got a list "
                                "[at $.productSpecifications[0].characteristics[0].values[0]]"),
])
def test_a_value_that_is_no_value_is_one_error_in_the_words_of_the_value_type(value_type: str, values: str,
                                                                               expected: str) -> None:
    assert _errors(SPEC.replace("VT", value_type).replace("VALS", values)) == [f"c.yaml:{expected}"]


def test_a_characteristic_use_s_value_that_is_no_value_is_one_error_each() -> None:
    text = """\
productSpecifications:
  - {id: s, name: S, characteristics: [{name: c, valueType: number}]}
productOfferings:
  - {id: o, name: O, productSpecification: s, characteristicUses: [{name: c, values: [.inf, {a: 1}, null, 1]}]}
"""
    assert [s.split(" [at")[0] for s in _errors(text)] == [
        "c.yaml:4:87: expected a finite number, got inf",
        "c.yaml:4:93: expected text, a number, or true or false, got a mapping",
        "c.yaml:4:101: expected text, a number, or true or false, got nothing"]


def test_an_amount_of_too_many_digits_is_said_as_the_docs_say_the_bounds() -> None:
    price = "productOfferingPrices:\n  - {id: p, name: P, priceType: usage, unit: MB, amount: AMOUNT, currency: EUR}\n"
    assert _errors(price.replace("AMOUNT", "1e400")) == [
        "c.yaml:2:58: expected a number of at most 15 digits before the point, got 1E+400 "
        "[at $.productOfferingPrices[0].amount]"]
    # 15 before the point and 9 after: 24 digits, said as the decimal places that are too many
    assert _errors(price.replace("AMOUNT", "123456789012345.123456789"))[0].startswith(
        "c.yaml:2:58: expected a number of at most 8 decimal places")
    assert load_catalog_text(price.replace("AMOUNT", "123456789012345.12345678"), "c.yaml").prices[
        "p"].amount == Decimal("123456789012345.12345678")


def test_the_model_refuses_a_value_that_is_no_value_once() -> None:
    with pytest.raises(ValueError) as caught:
        Characteristic(name="c", value_type="number", values=[float("nan")])
    assert "expected a finite number" in str(caught.value) and "1 validation error" in str(caught.value)
