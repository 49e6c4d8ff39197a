"""Which allowance bucket a product gets for a month (issue 15, item 1): pro-rating and its
rounding, rollover and its limit, quiet months, ids; the catalog's checks of allowances
(positioned, with did-you-mean) and their TMF620 rendering."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from bssrules.catalog import tmf
from bssrules.catalog.catalog import Catalog
from bssrules.catalog.loader import load_catalog, load_catalog_text
from bssrules.catalog.model import Allowance, ProductOfferingPrice
from bssrules.errors import InvalidSource
from bssrules.pricing.allowances import bucket_id, grant, included, month_bounds, previous_month

UTC = dt.timezone.utc
EXAMPLE = "examples/allowances/catalog"


def _allowance(**fields: object) -> Allowance:
    return Allowance.model_validate({"id": "data", "name": "Data", "amount": 3, "unit": "GB",
                                     "usageTypes": ["data"], **fields})


def _price(allowance: Allowance) -> ProductOfferingPrice:
    return ProductOfferingPrice.model_validate({"id": "monthly", "name": "Monthly", "priceType": "recurring",
                                                "recurringPeriod": "month", "amount": "12.00", "currency": "EUR",
                                                "allowances": [allowance.model_dump(by_alias=True)]})


@pytest.mark.parametrize("pro_rate, expected", [("exact", "1.000000"), ("wholeUnits", "1"), ("full", "3")])
def test_the_first_month_is_pro_rated_and_rounded_down(pro_rate: str, expected: str) -> None:
    # from 21 June 00:00: 10 of June's 30 days, 3 GB × 1/3 = 1 GB
    assert included(_allowance(proRate=pro_rate), dt.datetime(2026, 6, 21, tzinfo=UTC), "2026-06") == \
        Decimal(expected)


def test_a_share_that_is_no_round_number_is_rounded_down_never_up() -> None:
    # from 2 June 08:00: 22 days 16 h of 30 days = 0.7555… of 3 GB = 2.2666… GB
    start = dt.datetime(2026, 6, 8, 8, tzinfo=UTC)
    assert included(_allowance(), start, "2026-06") == Decimal("2.266666")
    assert included(_allowance(proRate="wholeUnits"), start, "2026-06") == Decimal(2)
    assert included(_allowance(), start, "2026-07") == Decimal(3)  # later months: whole
    assert included(_allowance(), dt.datetime(2026, 5, 31, tzinfo=UTC), "2026-06") == Decimal(3)


def test_rollover_carries_what_the_previous_month_left_up_to_its_limit() -> None:
    allowance = _allowance(rollover={"limit": 1})
    price, start = _price(allowance), dt.datetime(2026, 1, 1, tzinfo=UTC)
    left = {bucket_id("p", "monthly", "data", "2026-05"): Decimal("0.4")}
    june = grant("p", "plan", price, allowance, start, "2026-06", left.get)
    assert june is not None and (june.included, june.carried, june.amount) == (Decimal(3), Decimal("0.4"),
                                                                               Decimal("3.4"))
    left = {bucket_id("p", "monthly", "data", "2026-05"): Decimal("2.5")}
    june = grant("p", "plan", price, allowance, start, "2026-06", left.get)
    assert june is not None and june.carried == Decimal(1)  # the limit
    no_rollover = grant("p", "plan", _price(_allowance()), _allowance(), start, "2026-06", left.get)
    assert no_rollover is not None and no_rollover.carried == 0


def test_months_without_a_bucket_carry_all_they_held_and_the_first_month_carries_nothing() -> None:
    allowance = _allowance(rollover={"limit": 4})
    price, start = _price(allowance), dt.datetime(2026, 3, 16, tzinfo=UTC)
    # March (16 of 31 days: 1.548387) and April (3 + 1.548387) had no bucket: April carries
    # March's 1.548387, May carries min(4.548387, 4) = 4
    april = grant("p", "plan", price, allowance, start, "2026-04", lambda _: None)
    assert april is not None and april.carried == Decimal("1.548387")
    may = grant("p", "plan", price, allowance, start, "2026-05", lambda _: None)
    assert may is not None and may.carried == Decimal(4)
    march = grant("p", "plan", price, allowance, start, "2026-03", lambda _: Decimal(99))
    assert march is not None and march.carried == 0 and march.valid_from == start
    assert grant("p", "plan", price, allowance, start, "2026-02", lambda _: None) is None  # not started yet
    # without a start date, only a bucket that exists carries anything
    unknown = grant("p", "plan", price, allowance, None, "2026-05", lambda _: None)
    assert unknown is not None and unknown.carried == 0 and unknown.included == 3


def test_months_and_ids() -> None:
    assert month_bounds("2026-12") == (dt.datetime(2026, 12, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))
    assert previous_month("2026-01") == "2025-12"
    assert bucket_id("line", "monthly", "data", "2026-06") == "allowance:line:monthly:data:2026-06"
    long = bucket_id("x" * 128, "monthly", "data", "2026-06")
    assert len(long) <= 128 and long.startswith("allowance:") and long.endswith(":2026-06")
    assert long != bucket_id("y" * 128, "monthly", "data", "2026-06")


def test_the_catalog_checks_allowances_where_they_are_written() -> None:
    text = """\
productOfferingPrices:
  - {id: sms, name: SMS, priceType: usage, usageType: sms, unit: message, amount: 0.10, currency: EUR}
  - id: monthly
    name: Monthly
    priceType: recurring
    recurringPeriod: month
    periodLength: 3
    amount: 12.00
    currency: EUR
    allowances:
      - {id: texts, name: Texts, amount: 100, unit: mesage, usageTypes: [sm]}
  - id: ok
    name: Ok
    priceType: recurring
    recurringPeriod: month
    amount: 12.00
    currency: EUR
    allowances:
      - {id: texts, name: Texts, amount: 100, unit: message, usageTypes: [sms], proRate: half}
"""
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "c.yaml")
    shown = [str(d) for d in caught.value.diagnostics]
    assert any(s.startswith("c.yaml:3:5: allowances are given per calendar month") for s in shown), shown
    assert any(s.startswith("c.yaml:11:53:") and "unknown unit 'mesage'" in s and "did you mean 'message'" in s
               for s in shown), shown
    assert any(s.startswith("c.yaml:11:74:") and "unknown usage type 'sm'" in s and "did you mean 'sms'" in s
               for s in shown), shown
    assert any(s.startswith("c.yaml:19:90:") and "'half' is not allowed here" in s for s in shown), shown


def test_an_allowance_is_of_units_and_names_each_usage_type_once() -> None:
    with pytest.raises(ValueError, match="not money"):
        _allowance(unit="EUR")
    with pytest.raises(ValueError, match="more than once"):
        _allowance(usageTypes=["data", "data"])


def test_tmf620_shows_a_price_s_allowances_and_reads_them_back() -> None:
    catalog: Catalog = load_catalog(EXAMPLE)
    meta = tmf.Meta(1, dt.datetime(2026, 1, 1, tzinfo=UTC))
    for price in catalog.prices.values():
        shown = json.loads(json.dumps(tmf.to_tmf(price, meta, "/api"), default=str))
        assert tmf.from_tmf("productOfferingPrice", shown) == price
    monthly = tmf.to_tmf(catalog.prices["data-3gb-monthly"], meta, "/api")
    assert monthly["allowance"][0]["usageTypes"] == ["data"] and monthly["allowance"][0]["rollover"] == {
        "limit": Decimal(1)}
    assert tmf.to_tmf(catalog.prices["data-per-mb"], meta, "/api")["usageType"] == "data"


def test_the_last_month_of_the_calendar_ends_with_it() -> None:
    """December 9999 has no month after it: its bounds raised (year 10000), a 500 on completing
    an order with included allowances dated then (an orders review)."""
    assert month_bounds("9999-12") == (dt.datetime(9999, 12, 1, tzinfo=UTC), dt.datetime.max.replace(tzinfo=UTC))
