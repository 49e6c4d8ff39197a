"""A currency that is not three capital letters gets the closest ISO 4217 code as a suggestion."""
from __future__ import annotations

import pytest

from bssrules.catalog.loader import load_catalog_text
from bssrules.errors import InvalidSource

PRICE = "productOfferingPrices:\n  - {id: p, name: P, priceType: usage, unit: MB, amount: 1, currency: CODE}\n"


def _error(code: str) -> str:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(PRICE.replace("CODE", code), "c.yaml")
    (diagnostic,) = caught.value.diagnostics
    return str(diagnostic)


@pytest.mark.parametrize("code", ["EURO", "euro", "eur", "EUR1"])
def test_a_currency_close_to_an_iso_code_gets_it_suggested(code: str) -> None:
    assert _error(code) == (f"c.yaml:2:71: expected a currency code of three capital letters such as EUR, got "
                            f"'{code}' (did you mean 'EUR'?) [at $.productOfferingPrices[0].currency]")


def test_a_currency_close_to_nothing_gets_no_suggestion() -> None:
    assert "did you mean" not in _error("QQQQ")


@pytest.mark.parametrize(("code", "meant"), [("US", "USD"), ("GB", "GBP"), ("CH", "CHF")])
def test_a_currency_cut_short_gets_the_code_it_begins(code: str, meant: str) -> None:
    # ("US" is as close to UZS as to USD by difflib's ratio; a code cut short is the likelier slip)
    assert f"(did you mean '{meant}'?)" in _error(code)
