"""An allowance whose unit cannot count the usage it serves is an error where the unit is written."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.catalog.loader import load_catalog_text
from bssrules.errors import InvalidSource
from bssrules.pricing.units import MEASURED_UNITS, convert

PRICES = """\
productSpecifications:
  - {id: line, name: Line}
productOfferingPrices:
  - {id: data27-mb, name: Data, priceType: usage, usageType: data, unit: MB, amount: 0.01, currency: EUR}
  - id: m27
    name: Monthly
    priceType: recurring
    recurringPeriod: month
    amount: 10.00
    currency: EUR
    allowances:
      - {id: d, name: Included data, amount: 3000, unit: UNIT, usageTypes: [data], proRate: full}
"""
OFFERING = """\
productOfferings:
  - {id: o27, name: Plan, productSpecification: line, prices: [m27, data27-mb]}
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "c.yaml")
    return [str(d) for d in caught.value.diagnostics]


@pytest.mark.parametrize("offering", ["", OFFERING], ids=["no offering", "in an offering"])
def test_an_allowance_in_minutes_of_data_priced_per_mb_is_refused_at_its_unit(offering: str) -> None:
    shown = _errors(PRICES.replace("UNIT", "min") + offering)
    assert len(shown) == 1, shown
    assert shown[0].startswith("c.yaml:12:58: unit 'min' cannot convert to MB, the unit the 'data' usage price "
                               "'data27-mb' is charged per"), shown
    assert "B, kB, MB, GB, TB" in shown[0] and "[at $.productOfferingPrices[1].allowances[0].unit]" in shown[0]


@pytest.mark.parametrize("unit", ["GB", "MB", "kB"])
def test_an_allowance_in_a_unit_of_data_serves_data_priced_per_mb(unit: str) -> None:
    catalog = load_catalog_text(PRICES.replace("UNIT", unit) + OFFERING, "c.yaml")
    assert catalog.prices["m27"].allowances[0].unit == unit


def test_the_usage_prices_the_offering_lists_are_the_ones_that_count() -> None:
    # another data price, per event, that this offering does not sell: the allowance in GB is fine
    text = PRICES.replace("UNIT", "GB") + OFFERING + """\
  - {id: other, name: Other, productSpecification: line, prices: [data-event]}
"""
    text = text.replace("productOfferings:", """\
  - {id: data-event, name: Data event, priceType: usage, usageType: data, unit: event, amount: 0.01, currency: EUR}
productOfferings:""")
    assert load_catalog_text(text, "c.yaml").prices["m27"].allowances[0].unit == "GB"
    # sold beside the per-event price too, the GB allowance cannot serve that price's usage
    shown = _errors(text.replace("prices: [m27, data27-mb]", "prices: [m27, data27-mb, data-event]"))
    assert len(shown) == 1 and "unit 'GB' cannot convert to event" in shown[0] and "'data-event'" in shown[0], shown


UNITS = ["B", "kB", "MB", "GB", "TB", "s", "min", "h", "message", "event"]


@settings(max_examples=60, deadline=None)
@given(allowance_unit=st.sampled_from(UNITS), price_unit=st.sampled_from(UNITS), offered=st.booleans())
def test_check_accepts_an_allowance_exactly_when_rating_can_convert_its_unit(allowance_unit: str, price_unit: str,
                                                                            offered: bool) -> None:
    """The check and rating agree: a bucket is used by usage in a unit it converts to
    (pricing.units.convert), so the check refuses the allowance exactly when it does not."""
    text = (PRICES.replace("unit: MB", f"unit: {price_unit}").replace("UNIT", allowance_unit)
            + (OFFERING if offered else ""))
    serves = convert(Decimal(1), allowance_unit, price_unit) is not None
    try:
        load_catalog_text(text, "c.yaml")
        refused = []
    except InvalidSource as caught:
        refused = [str(d) for d in caught.diagnostics]
    assert bool(refused) != serves, refused
    if refused:  # a unit neither of data nor of time nor priced is unknown; any other, of the wrong kind
        known = allowance_unit in MEASURED_UNITS
        assert refused[0].split(": ", 1)[1].startswith(
            f"unit '{allowance_unit}' cannot convert to {price_unit}," if known else f"unknown unit '{allowance_unit}'"
        ), refused
