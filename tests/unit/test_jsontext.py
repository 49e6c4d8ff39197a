"""The JSON text of the API: numbers read exactly, one indexed spelling per number, depth."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from bssrules import jsontext

finite = st.decimals(allow_nan=False, allow_infinity=False)


@given(finite, st.integers(min_value=0, max_value=40))
def test_a_number_and_its_trailing_zeros_have_one_spelling(number: Decimal, zeros: int) -> None:
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, digits + (0,) * zeros, exponent - zeros))  # 1.5 -> 1.500: the same number
    assert padded == number
    assert jsontext.normalized_number(padded) == jsontext.normalized_number(number)


@given(finite, finite)
def test_different_numbers_have_different_spellings_and_the_spelling_reads_back_exactly(a: Decimal, b: Decimal) -> None:
    assert (jsontext.normalized_number(a) == jsontext.normalized_number(b)) == (a == b)
    assert Decimal(jsontext.normalized_number(a)) == a


@pytest.mark.parametrize(("number", "spelling"), [
    ("5", "5"), ("5.00", "5"), ("-0.0", "0"), ("1E+2", "100"), ("0.0001", "0.0001"), ("-2.500", "-2.5"),
    # beyond the default decimal context: neither rounded nor an overflow
    ("12345678901234567890123456789012345", "12345678901234567890123456789012345"),
    ("1e999999999", "1E+999999999"), ("1e-999999999", "1E-999999999"),
])
def test_spellings(number: str, spelling: str) -> None:
    assert jsontext.normalized_number(Decimal(number)) == spelling


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_number_that_is_not_finite_has_no_spelling(number: str) -> None:
    with pytest.raises(ValueError):
        jsontext.normalized_number(Decimal(number))


def test_depth_counts_arrays_and_objects_without_recursion() -> None:
    assert jsontext.depth(1) == 0 and jsontext.depth("x") == 0
    assert jsontext.depth([]) == 1 and jsontext.depth({"a": [1, {"b": {}}]}) == 4
    nested: object = []
    for _ in range(100_000):
        nested = [nested]
    assert jsontext.depth(nested) == 100_001


def test_the_local_minute_and_weekday_at_the_ends_of_the_calendar() -> None:
    """Beyond year 9999 in local time the date cannot be built; 400 years earlier (a whole
    number of weeks) it has the same minute and weekday."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from bssrules.rules.facts import local_minute

    late = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone.utc)  # a Friday, 13:00 the next day at UTC+14
    assert local_minute(late, ZoneInfo("Pacific/Kiritimati")) == (13 * 60, 6)
    early = dt.datetime(1, 1, 1, 1, 0, tzinfo=dt.timezone.utc)  # a Monday; 15:00 the day before at UTC-10
    assert local_minute(early, ZoneInfo("Etc/GMT+10")) == (15 * 60, 7)  # (a fixed offset: no local mean time)
