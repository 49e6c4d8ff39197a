"""The written form of quantities and money (bssrules.quantities): one text per value for a
quantity, the currency's scale for money, exact both."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from bssrules import jsontext
from bssrules.money import minor_unit_exponent
from bssrules.quantities import measure, money, plain, quantity

ordinary = st.builds(lambda digits, exponent: Decimal(digits).scaleb(exponent),
                     st.integers(-(10 ** 20), 10 ** 20), st.integers(-30, 30))


@given(ordinary, st.integers(min_value=0, max_value=12))
def test_a_quantity_has_one_text_whatever_its_scale(number: Decimal, zeros: int) -> None:
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, digits + (0,) * zeros, exponent - zeros))
    text = jsontext.dumps(quantity(padded))
    assert text == jsontext.dumps(quantity(number)) == jsontext.normalized_number(number)
    assert "E" not in text and Decimal(text) == number
    assert not ("." in text and text.endswith("0"))


@given(ordinary, st.sampled_from(["EUR", "JPY", "KWD"]))
def test_money_is_written_exactly_at_least_at_its_currencys_scale(number: Decimal, currency: str) -> None:
    text = jsontext.dumps(money(number, currency))
    assert Decimal(text) == number and "E" not in text
    decimals = len(text.partition(".")[2])
    assert decimals >= minor_unit_exponent(currency)
    assert decimals == max(minor_unit_exponent(currency), len(jsontext.normalized_number(number).partition(".")[2]))


@pytest.mark.parametrize(("value", "unit", "text"), [
    (Decimal("1500.0"), "MB", "1500"), (Decimal("1.5E+3"), "MB", "1500"), (Decimal("100.000000"), "MB", "100"),
    (0, "GB", "0"), (Decimal("0E-6"), "GB", "0"), (Decimal("-0"), "GB", "0"), (Decimal("0.300000"), "GB", "0.3"),
    (Decimal("1E-7"), "GB", "0.0000001"), (Decimal("0.000001"), "s", "0.000001"), (1.5, "GB", "1.5"),
    (Decimal("12.5"), "EUR", "12.50"), (Decimal("0E-6"), "EUR", "0.00"), (3, "EUR", "3.00"),
    (Decimal("0.0125"), "EUR", "0.0125"), (Decimal("500.00"), "JPY", "500"), (Decimal("1.5"), "KWD", "1.500"),
])
def test_measures(value: object, unit: str, text: str) -> None:
    assert jsontext.dumps(measure(value, unit)) == text


def test_what_is_not_a_number_is_left_as_it_is() -> None:
    for value in (None, "1.50", True, Decimal("NaN")):
        assert quantity(value) is value and money(value, "EUR") is value


def test_plain_keeps_the_digits_and_drops_only_the_exponent() -> None:
    assert [jsontext.dumps(plain(v)) for v in (Decimal("0.30"), Decimal("1E-7"), Decimal("1E+2"), 4)] == \
        ["0.30", "0.0000001", "100", "4"]


def test_a_stored_usage_text_from_fragments_is_the_documents_with_quantities_in_their_form() -> None:
    import datetime as dt

    from bssrules.pricing.usage import RatedUsage, UsageRecord
    from bssrules.services import usage

    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
    record = UsageRecord("u1", "sub-1", "data", now, Decimal("1.5"), unit="GB", type="data")
    result = RatedUsage(record, "rated", rule_set="r", rule="data", currency="EUR", rated_volume=Decimal("1500.0"),
                        amount=Decimal("0.3"), prepaid=Decimal("0.3"),
                        buckets=(("gb", Decimal("0.200000")), ("tiny", Decimal("1E-7")), ("cash", Decimal("0.3"))))
    body = {"usageDate": "2026-06-01T12:00:00Z", "usageType": "data"}
    stored = usage._stored_document(body, result, now, frozenset({"cash"}))
    assert stored.json == jsontext.dumps(usage._rated_document(body, result, now, frozenset({"cash"})), sort_keys=True)
    by = jsontext.loads(stored.json)["ratedBy"]
    assert '"ratedVolume": 1500,' in stored.json and by["ratedVolume"] == 1500
    assert '"taken": 0.2}' in stored.json and '"taken": 0.0000001}' in stored.json and '"taken": 0.30}' in stored.json
