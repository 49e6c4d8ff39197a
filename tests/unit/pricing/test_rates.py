"""What a rate charges for a volume (bssrules.pricing.rates): flat, graduated and volume
tiers, exactly, then rounded half-up to the currency's minor unit once per record.

Amounts are compared as text so that a missing or extra decimal shows ("0.50" is not "0.5").
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bssrules.pricing.rates import charge, exact_charge
from bssrules.rules.model import Rate


def rate(**fields: Any) -> Rate:
    """A rate as it is authored (camelCase keys)."""
    return Rate.model_validate({"currency": "EUR", **fields})


def charged(r: Rate, volume: str) -> str:
    return str(charge(r, Decimal(volume)))


FLAT_FINE = rate(amount="0.0123", per="MB")
# 0-100 at 0.05, 100-500 at 0.03, beyond at 0.01
TIERS = [{"upTo": 100, "amount": "0.05"}, {"upTo": 500, "amount": "0.03"}, {"amount": "0.01"}]
GRADUATED = rate(tiers=TIERS, per="minute")
VOLUME = rate(tiers=TIERS, tierMode="volume", per="minute")


# --- flat rates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "exact", "rounded"), [
    ("0", "0", "0.00"),
    ("1", "0.0123", "0.01"),
    ("40", "0.4920", "0.49"),
    ("41", "0.5043", "0.50"),
    ("50", "0.6150", "0.62"),  # half-up
    ("100", "1.2300", "1.23"),
    ("1000", "12.3000", "12.30"),
    ("0.5", "0.00615", "0.01"),
    ("0.4", "0.00492", "0.00"),
    ("1234.567", "15.1851741", "15.19"),
])
def test_a_flat_rate_charges_each_unit_then_rounds_half_up_to_the_cent(volume: str, exact: str, rounded: str) -> None:
    assert exact_charge(FLAT_FINE, Decimal(volume)) == Decimal(exact)
    assert charged(FLAT_FINE, volume) == rounded


@pytest.mark.parametrize(("volume", "rounded"), [
    ("2", "0.03"),   # 0.025: half-up gives 0.03 where banker's rounding would give 0.02
    ("6", "0.08"),   # 0.075
    ("0.4", "0.01"),  # 0.005
    ("0.36", "0.00"),  # 0.0045: rounded once, not first to 0.005 then up
])
def test_a_charge_exactly_half_way_rounds_up(volume: str, rounded: str) -> None:
    assert charged(rate(amount="0.0125"), volume) == rounded


def test_a_zero_rate_charges_zero_cents_whatever_the_volume() -> None:
    assert charged(rate(amount=0), "1000000") == "0.00"


def test_a_zero_or_negative_volume_costs_nothing() -> None:
    assert exact_charge(FLAT_FINE, Decimal(0)) == 0
    assert exact_charge(FLAT_FINE, Decimal("-5")) == 0
    assert exact_charge(GRADUATED, Decimal("-5")) == 0
    assert charged(GRADUATED, "0") == "0.00"
    assert charged(VOLUME, "0") == "0.00"


@pytest.mark.parametrize(("currency", "amount", "volume", "rounded"), [
    ("JPY", "1.5", "3", "5"),   # 4.5 yen: no minor unit, half-up to a whole yen
    ("JPY", "1.5", "1", "2"),
    ("JPY", "0.4", "1", "0"),
    ("JPY", "12", "10", "120"),
    ("KWD", "0.0125", "1", "0.013"),  # three decimals
    ("KWD", "0.0125", "0.2", "0.003"),  # 0.0025
])
def test_the_charge_is_rounded_to_the_minor_unit_of_its_currency(currency: str, amount: str, volume: str,
                                                                 rounded: str) -> None:
    assert charged(rate(amount=amount, currency=currency), volume) == rounded


def test_jpy_tiers_round_to_whole_yen() -> None:
    yen = rate(currency="JPY", tiers=[{"upTo": 10, "amount": "2.5"}, {"amount": "1.25"}])
    assert charged(yen, "3") == "8"  # 7.5
    assert charged(yen, "11") == "26"  # 25 + 1.25 = 26.25
    assert charged(yen, "13") == "29"  # 25 + 3.75 = 28.75


# --- graduated tiers -------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "rounded"), [
    ("1", "0.05"),
    ("99", "4.95"),
    ("100", "5.00"),     # all 100 in the first tier
    ("100.5", "5.02"),   # 5 + 0.5 x 0.03 = 5.015
    ("101", "5.03"),     # 5 + 1 x 0.03
    ("500", "17.00"),    # 5 + 400 x 0.03
    ("501", "17.01"),    # 17 + 1 x 0.01
    ("600", "18.00"),
    ("50.5", "2.53"),    # 2.525
])
def test_graduated_tiers_charge_each_unit_at_the_price_of_its_own_tier(volume: str, rounded: str) -> None:
    assert charged(GRADUATED, volume) == rounded


def test_graduated_tiers_are_exact_before_rounding() -> None:
    assert exact_charge(GRADUATED, Decimal("100.5")) == Decimal("5.015")
    assert exact_charge(GRADUATED, Decimal("123.456")) == Decimal("5.70368")


def test_a_free_first_tier_is_an_allowance_within_the_record() -> None:
    allowance = rate(tiers=[{"upTo": 10, "amount": 0}, {"amount": "1.00"}])
    assert charged(allowance, "10") == "0.00"
    assert charged(allowance, "12") == "2.00"


def test_a_single_open_tier_is_a_flat_rate() -> None:
    assert charged(rate(tiers=[{"amount": "0.0123"}]), "41") == charged(FLAT_FINE, "41") == "0.50"


# --- volume tiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "rounded"), [
    ("1", "0.05"),
    ("100", "5.00"),     # a volume equal to upTo falls in that tier
    ("100.01", "3.00"),  # 100.01 x 0.03 = 3.0003: just past it, every unit at the next price
    ("101", "3.03"),
    ("500", "15.00"),    # equal to the second upTo: still 0.03
    ("501", "5.01"),
    ("1000", "10.00"),
])
def test_volume_tiers_charge_every_unit_at_the_price_of_the_tier_the_total_falls_in(volume: str,
                                                                                   rounded: str) -> None:
    assert charged(VOLUME, volume) == rounded


def test_volume_tiers_are_not_monotone_across_a_limit_but_graduated_ones_are() -> None:
    """The cliff of volume pricing: 101 minutes cost less than 100."""
    assert charge(VOLUME, Decimal(101)) < charge(VOLUME, Decimal(100))
    assert charge(GRADUATED, Decimal(101)) > charge(GRADUATED, Decimal(100))


def test_tier_mode_is_graduated_unless_said_otherwise() -> None:
    assert GRADUATED.tier_mode == "graduated"
    assert charged(GRADUATED, "12") == "0.60"
    assert charged(VOLUME, "12") == "0.60"  # both within the first tier
    assert charged(GRADUATED, "200") == "8.00"  # 5 + 3
    assert charged(VOLUME, "200") == "6.00"  # 200 x 0.03
