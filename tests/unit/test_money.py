"""Money: half-up rounding to the currency's minor unit, same-currency arithmetic, and
largest-remainder allocation whose parts add up exactly to the rounded total."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.money import Money, allocate, minor_unit_exponent, quantum


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def amounts(money: list[Money]) -> list[str]:
    """The parts as text, so that a wrong number of decimals shows too."""
    return [str(m.amount) for m in money]


# --- minor units -------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "exponent", "smallest"), [
    ("EUR", 2, "0.01"), ("USD", 2, "0.01"), ("JPY", 0, "1"), ("KRW", 0, "1"), ("KWD", 3, "0.001"),
    ("BHD", 3, "0.001"), ("XYZ", 2, "0.01"),
])
def test_each_currency_has_the_minor_unit_of_iso_4217(currency: str, exponent: int, smallest: str) -> None:
    assert minor_unit_exponent(currency) == exponent
    assert quantum(currency) == Decimal(smallest)
    assert str(quantum(currency)) == smallest


# --- rounding ----------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("2.345", "EUR", "2.35"),
    ("2.3449", "EUR", "2.34"),
    ("0.125", "EUR", "0.13"),  # half-up, not banker's rounding (which gives 0.12)
    ("0.135", "EUR", "0.14"),
    ("-2.345", "EUR", "-2.35"),  # half away from zero for negative amounts
    ("5", "EUR", "5.00"),
    ("2.5", "JPY", "3"),
    ("3.5", "JPY", "4"),
    ("1.49", "JPY", "1"),
    ("1.2345", "KWD", "1.235"),
    ("1.2344", "KWD", "1.234"),
    ("7", "KWD", "7.000"),
])
def test_rounding_goes_half_up_to_the_minor_unit_of_the_currency(amount: str, currency: str,
                                                                  expected: str) -> None:
    rounded = Money(Decimal(amount), currency).rounded()
    assert str(rounded.amount) == expected
    assert rounded.currency == currency


def test_arithmetic_keeps_full_precision_until_rounded() -> None:
    total = eur("0.005") + eur("0.001") - eur("0.0005")
    assert total.amount == Decimal("0.0055")
    assert (eur("1") * Decimal("0.333")).amount == Decimal("0.333")
    assert (eur("2.50") * 3).amount == Decimal("7.50")
    assert str(total.rounded().amount) == "0.01"


def test_a_float_amount_is_read_from_its_shortest_text_not_its_binary_value() -> None:
    assert Money(0.1, "EUR").amount == Decimal("0.1")  # type: ignore[arg-type]
    assert Money(2, "EUR").amount == Decimal(2)  # type: ignore[arg-type]


def test_money_prints_as_amount_and_currency() -> None:
    assert str(eur("12.30")) == "12.30 EUR"


@pytest.mark.parametrize("operation", [lambda a, b: a + b, lambda a, b: a - b], ids=["add", "subtract"])
def test_combining_two_currencies_is_refused(operation) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="cannot combine EUR with USD"):
        operation(eur("1"), Money(Decimal("1"), "USD"))


# --- allocation --------------------------------------------------------------------------


def test_an_even_split_gives_the_leftover_cent_to_the_earliest_part() -> None:
    assert amounts(allocate(eur("100"), [1, 1, 1])) == ["33.34", "33.33", "33.33"]


def test_the_leftover_goes_to_the_largest_remainder_even_when_it_is_not_first() -> None:
    # exact shares 0.0333… and 0.0166…: the second part has the larger remainder
    assert amounts(allocate(eur("0.05"), [2, 1])) == ["0.03", "0.02"]
    # exact shares 0.0166… and 0.0333…
    assert amounts(allocate(eur("0.05"), [1, 2])) == ["0.02", "0.03"]


def test_several_leftover_units_go_to_the_parts_in_order_of_remainder() -> None:
    # exact: 0.142857…, 0.285714…, 0.571428… → floors 0.14, 0.28, 0.57 (sum 0.99), remainders
    # 0.0029, 0.0057, 0.0014: the one leftover cent goes to the second part
    assert amounts(allocate(eur("1"), [1, 2, 4])) == ["0.14", "0.29", "0.57"]
    # 0.10 by [1]*7: floors 0.01 each (0.07), three leftover cents to the first three (ties)
    assert amounts(allocate(eur("0.10"), [1] * 7)) == ["0.02", "0.02", "0.02", "0.01", "0.01", "0.01", "0.01"]


def test_remainders_that_tie_exactly_tie_even_when_decimal_division_would_round_them_apart() -> None:
    # 0.070 KWD by 0.1 / 0.1 / 1.3: exact shares 4.666…, 4.666…, 60.666… fils, three equal
    # remainders of 2/3; the two leftover fils go to the first two parts. Rounded to 28 digits,
    # the last quotient kept fewer decimals and its remainder looked larger (it took one).
    kwd = Money(Decimal("0.070"), "KWD")
    assert amounts(allocate(kwd, [Decimal("0.1"), Decimal("0.1"), Decimal("1.3")])) == ["0.005", "0.005", "0.060"]
    assert amounts(allocate(kwd, [Decimal("0.1"), Decimal("0.4"), Decimal("1")])) == ["0.005", "0.019", "0.046"]


@pytest.mark.parametrize(("total", "weights", "expected"), [
    (Money(Decimal("100"), "JPY"), [1, 1, 1], ["34", "33", "33"]),
    (Money(Decimal("1"), "KWD"), [1, 1, 1], ["0.334", "0.333", "0.333"]),
    (Money(Decimal("10"), "EUR"), [0, 1], ["0.00", "10.00"]),
    (Money(Decimal("-10"), "EUR"), [1, 1, 1], ["-3.34", "-3.33", "-3.33"]),
])
def test_allocation_works_in_the_minor_unit_of_each_currency(total: Money, weights: list[int],
                                                             expected: list[str]) -> None:
    parts = allocate(total, weights)
    assert amounts(parts) == expected
    assert {p.currency for p in parts} == {total.currency}


def test_allocation_splits_the_rounded_total_not_the_raw_amount() -> None:
    parts = allocate(eur("10.005"), [1, 1])
    assert amounts(parts) == ["5.01", "5.00"]
    assert sum(p.amount for p in parts) == Decimal("10.01")


@pytest.mark.parametrize(("weights", "message"), [
    ([], "weights must be non-empty with a positive sum"),
    ([0, 0], "weights must be non-empty with a positive sum"),
    ([2, -1], "weights must not be negative"),
])
def test_allocation_refuses_weights_that_cannot_split(weights: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        allocate(eur("10"), weights)


CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD", "USD", "BHD"])


@settings(max_examples=200, deadline=None)
@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    currency=CURRENCIES,
    weights=st.lists(st.one_of(st.integers(0, 1000), st.decimals(min_value=0, max_value=100, places=3)),
                     min_size=1, max_size=12).filter(lambda ws: sum(ws) > 0),
)
def test_allocated_parts_of_a_positive_total_add_up_exactly_and_stay_within_a_minor_unit(amount: Decimal, currency: str,
                                                                    weights: list) -> None:  # type: ignore[type-arg]
    total = Money(amount, currency)
    parts = allocate(total, weights)
    q = quantum(currency)
    assert len(parts) == len(weights)
    assert sum((p.amount for p in parts), Decimal(0)) == total.rounded().amount
    weight_sum = sum(Decimal(w) for w in weights)
    for part, weight in zip(parts, weights):
        assert part.currency == currency
        assert part.amount == part.amount.quantize(q)  # a whole number of minor units
        exact = total.rounded().amount * Decimal(weight) / weight_sum
        assert abs(part.amount - exact) < q  # never more than one minor unit away from the exact share



def test_splitting_a_negative_total_is_the_mirror_image_of_splitting_the_positive_one() -> None:
    """Discounts are negative: -x must be split as -(split of x); a part of weight 0 gets nothing."""
    for amount, weights in (("0.01", [0, 1, 1]), ("0.05", [2, 1]), ("1", [1, 2, 4])):
        positive = [p.amount for p in allocate(eur(amount), weights)]
        negative = [p.amount for p in allocate(eur("-" + amount), weights)]
        assert negative == [-a for a in positive], (amount, weights)
