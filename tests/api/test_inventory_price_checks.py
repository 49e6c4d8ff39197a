"""A product's prices are ones the bill run can bill, checked when they are written (TMF637
POST and PATCH, both tiers; a billing analyst's review).

A price the bill run cannot bill — an amount without a value or a currency, a currency that
is not one (ISO 4217), a value of more than 15 digits before the point, a discount in another
currency than its price or lasting what is not a whole number of months (1 or more), a
``recurringChargePeriod`` the run does not know — was stored, and the run left its account
unbilled (``accountsNotBilled``) month after month. It is refused with 400 naming the
attribute, and nothing is stored; a price paid by a billing account that does not exist is
refused with 422, as the product's own account is. A product stored before the check still
reads, changes and bills (or is reported) as it did; a price sent back as stored is not
judged again.

The check and the bill run read a price the same way: the last tests hold them to agree.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bssrules.services import billing, commitments
from bssrules.store import UnitOfWork

PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
RUN = "/tmf-api/customerBillManagement/v4/billRun"
MERGE = {"content-type": "application/merge-patch+json"}


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    """Ana and her billing account ba-ok; server errors answered, not raised."""
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        created = client.post(ACCOUNT, json={"id": "ba-ok", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        yield client


def _price(value: Any = 10, unit: Any = "EUR", kind: str = "recurring", period: Any = "month",
           alterations: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    price: dict[str, Any] = {"name": "fee", "priceType": kind, "billingAccount": {"id": "ba-ok"},
                             "price": {"taxIncludedAmount": {"unit": unit, "value": value}}, **more}
    if kind == "recurring" and period is not None:
        price["recurringChargePeriod"] = period
    if alterations is not None:
        price["priceAlteration"] = alterations
    return price


def _discount(value: Any = -2, unit: Any = "EUR", **more: Any) -> dict[str, Any]:
    return {"name": "promo", "priceType": "recurring", "price": {"taxIncludedAmount": {"unit": unit, "value": value}},
            **more}


def _product(id: str, *prices: dict[str, Any]) -> dict[str, Any]:
    return {"id": id, "status": "active", "startDate": "2026-05-01T00:00:00Z", "productOffering": {"id": "plan"},
            "billingAccount": {"id": "ba-ok"}, "productPrice": list(prices),
            "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}


def _amount(**node: Any) -> dict[str, Any]:
    return _price() | {"price": {"taxIncludedAmount": node}}


# case: (the price, the path the answer names, words of the answer)
REFUSED = {
    "an amount without a value": (_amount(unit="EUR"), "productPrice[0].price.taxIncludedAmount.value",
                                  "an amount has a value"),
    "an amount without a unit": (_amount(value=10), "productPrice[0].price.taxIncludedAmount.unit",
                                 "an amount names its currency"),
    "a unit that is not a currency": (_price(unit="EURO"), "productPrice[0].price.taxIncludedAmount.unit",
                                      "'EURO' is not a currency (ISO 4217); did you mean 'EUR'?"),
    "a unit in lower case": (_price(unit="eur"), "productPrice[0].price.taxIncludedAmount.unit",
                             "'eur' is not a currency"),
    "a value of 16 digits": (_price(value=10 ** 15), "productPrice[0].price.taxIncludedAmount.value",
                             "at most 15 digits before the point"),
    "a value of 28 digits": (_price(value=1e27), "productPrice[0].price.taxIncludedAmount.value",
                             "at most 15 digits before the point"),
    "a one-time price of 16 digits": (_price(value=-(10 ** 15), kind="oneTime"),
                                      "productPrice[0].price.taxIncludedAmount.value", "at most 15 digits"),
    "a discount in another currency": (_price(alterations=[_discount(unit="USD")]),
                                       "productPrice[0].priceAlteration[0].price.taxIncludedAmount.unit",
                                       "discount 'promo' is in USD, its price in EUR"),
    "a discount without a value": (_price(alterations=[_discount() | {"price": {"taxIncludedAmount": {"unit": "EUR"}}}]),
                                   "productPrice[0].priceAlteration[0].price.taxIncludedAmount.value",
                                   "discount 'promo': an amount has a value"),
    "a discount of a currency that is none": (_price(alterations=[_discount(unit="XXX")]),
                                              "productPrice[0].priceAlteration[0].price.taxIncludedAmount.unit",
                                              "'XXX' is not a currency"),
    "a discount of months in text": (_price(alterations=[_discount(applicationDuration="3")]),
                                     "productPrice[0].priceAlteration[0].applicationDuration",
                                     "applicationDuration '3' is not a whole number of months, 1 or more"),
    "a discount of 1.5 months": (_price(alterations=[_discount(applicationDuration=1.5)]),
                                 "productPrice[0].priceAlteration[0].applicationDuration", "1.5 is not a whole"),
    "a discount of -1 month": (_price(alterations=[_discount(applicationDuration=-1)]),
                               "productPrice[0].priceAlteration[0].applicationDuration", "-1 is not a whole"),
    "a discount of 0 months": (_price(alterations=[_discount(applicationDuration=0)]),
                               "productPrice[0].priceAlteration[0].applicationDuration", "0 is not a whole"),
    "a discount of true months": (_price(alterations=[_discount(applicationDuration=True)]),
                                  "productPrice[0].priceAlteration[0].applicationDuration", "True is not a whole"),
    "a period of no length": (_price(period="0 months"), "productPrice[0].recurringChargePeriod",
                              "'0 months' is not a period (day, week, month or year"),
    "a period of no known name": (_price(period="fortnight"), "productPrice[0].recurringChargePeriod",
                                  "'fortnight' is not a period"),
    "a period of digits of another script": (_price(period="\u0663 months"), "productPrice[0].recurringChargePeriod",
                                             "is not a period"),
    "a period of three words": (_price(period="every 2 months"), "productPrice[0].recurringChargePeriod",
                                "'every 2 months' is not a period"),
}


def _refused(response: Any, status: int, path: str, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == ("invalidInput" if status == 400 else "unknownReference"), body
    assert body["message"].startswith(f"{path}: ") and words in body["message"], body


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_product_created_with_a_price_the_bill_run_cannot_bill_is_refused_naming_it(
        http: TestClient, case: str) -> None:
    price, path, words = REFUSED[case]
    _refused(http.post(INVENTORY, json=_product("p-1", price)), 400, path, words)
    assert http.get(f"{INVENTORY}/p-1").status_code == 404


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_patch_giving_a_price_the_bill_run_cannot_bill_is_refused_and_changes_nothing(
        http: TestClient, case: str) -> None:
    price, path, words = REFUSED[case]
    assert http.post(INVENTORY, json=_product("p-1", _price())).status_code == 201
    before = http.get(f"{INVENTORY}/p-1").json()
    # (the second price is the one at fault: the path names it)
    _refused(http.patch(f"{INVENTORY}/p-1", headers=MERGE, json={"productPrice": [_price(), price]}), 400,
             path.replace("productPrice[0]", "productPrice[1]"), words)
    assert http.get(f"{INVENTORY}/p-1").json() == before


def test_every_price_at_fault_is_named_at_once(http: TestClient) -> None:
    refused = http.post(INVENTORY, json=_product("p-1", _price(unit="EURO"),
                                                 _price(period="fortnight", alterations=[_discount(unit="USD")])))
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert message.split("; ")[0].startswith("productPrice[0].price.taxIncludedAmount.unit: 'EURO'"), message
    assert "productPrice[1].priceAlteration[0].price.taxIncludedAmount.unit: discount 'promo' is in USD" in message
    assert "productPrice[1].recurringChargePeriod: 'fortnight'" in message


def test_a_price_paid_by_a_billing_account_that_does_not_exist_is_refused_as_the_product_s_own(
        http: TestClient) -> None:
    _refused(http.post(INVENTORY, json=_product("p-1", _price(billingAccount={"id": "ba-okk"}))), 422,
             "productPrice[0].billingAccount.id", "no billingAccount 'ba-okk' (did you mean 'ba-ok'?)")
    assert http.get(f"{INVENTORY}/p-1").status_code == 404
    assert http.post(INVENTORY, json=_product("p-1", _price())).status_code == 201
    _refused(http.patch(f"{INVENTORY}/p-1", headers=MERGE,
                        json={"productPrice": [_price(), _price(billingAccount={"id": "ba-nobody"})]}),
             422, "productPrice[1].billingAccount.id", "no billingAccount 'ba-nobody'")
    assert http.get(f"{INVENTORY}/p-1").json()["productPrice"] == [_price()]


@pytest.mark.parametrize("price", [
    _price(period="daily"), _price(period="3 Months"), _price(period="years"), _price(period=None),
    _price(kind="oneTime"), _price(value=999999999999999), _price(value=-5, unit="JPY"),
    _price(alterations=[_discount(applicationDuration=1)]), _price(alterations=[_discount(applicationDuration=10 ** 6)]),
    _price(alterations=[_discount(applicationDuration=3.0)]), _price(alterations=[_discount(value=2)]),
    _price(alterations=[{"name": "note", "priceType": "recurring"}]),  # an alteration of no amount: none billed
    {"name": "usage", "priceType": "usage", "price": {"taxIncludedAmount": {"unit": "EUR", "value": 0.01}}},
], ids=["daily", "3 Months", "years", "no period", "one-time", "15 digits", "JPY", "1 month", "a million months",
        "3.0 months", "a surcharge", "no amount", "usage"])
def test_a_price_the_bill_run_can_bill_is_kept(http: TestClient, price: dict[str, Any]) -> None:
    created = http.post(INVENTORY, json=_product("p-1", price))
    assert created.status_code == 201, created.text
    assert http.patch(f"{INVENTORY}/p-1", headers=MERGE, json={"productPrice": [price, _price()]}).status_code == 200


# ----------------------------------------------------------------------------- stored before the check


def _stored_before(engine: Engine, id: str, price: dict[str, Any]) -> None:
    """Give product ``id`` the price as a product kept before prices were checked holds it."""
    with UnitOfWork(engine) as uow:
        stored = uow.resources.get("product", id, for_update=True)
        assert stored is not None
        uow.resources.replace(stored.bumped(dict(stored.document, productPrice=[price]), stored.last_update))
        uow.commit()


def test_a_product_stored_before_the_check_reads_changes_and_is_reported_as_it_was(
        http: TestClient, engine: Engine) -> None:
    assert http.post(INVENTORY, json=_product("p-old", _price())).status_code == 201
    old = _price(unit="EURO")
    _stored_before(engine, "p-old", old)
    assert http.get(f"{INVENTORY}/p-old").json()["productPrice"] == [old]
    run = http.post(RUN, json={"period": "2026-06"}).json()
    assert run["accountsNotBilled"] == [
        {"id": "ba-ok", "reason": "product p-old: price 'fee': 'EURO' is not a currency (ISO 4217); "
                                  "did you mean 'EUR'?"}], run

    # a change that leaves its prices alone, or sends the stored one back, is not refused for it
    assert http.patch(f"{INVENTORY}/p-old", headers=MERGE, json={"description": "kept"}).status_code == 200
    kept = http.patch(f"{INVENTORY}/p-old", headers=MERGE, json={"productPrice": [old, _price(kind="oneTime")]})
    assert kept.status_code == 200, kept.text
    # a price changed is judged
    _refused(http.patch(f"{INVENTORY}/p-old", headers=MERGE, json={"productPrice": [old | {"name": "other"}]}),
             400, "productPrice[0].price.taxIncludedAmount.unit", "'EURO' is not a currency")

    # corrected, the next run of the month bills it
    assert http.patch(f"{INVENTORY}/p-old", headers=MERGE, json={"productPrice": [_price()]}).status_code == 200
    again = http.post(RUN, json={"period": "2026-06"}).json()
    assert again["billsMade"] == ["ba-ok-2026-06-EUR"] and "accountsNotBilled" not in again, again


# ----------------------------------------------------------------------------- the check and the bill run agree

SPELLINGS = [None, "", "month", "months", "Month", "MONTHLY", "monthly", "day", "days", "daily", "week", "weekly",
             "year", "years", "yearly", "annual", "annually", "2 months", "3 Months", "12 month", "1 day",
             "0 months", "-1 months", "+2 months", "1.5 months", "2  weeks", " month ", "fortnight", "quarter",
             "\u0663 months", "2 monthss", "month 2", "every 2 months", "mon", "dayss", "1 daily",
             "1000000000000000000000 months", 3, 0, True]


READ = {None: ("month", 1), "": ("month", 1), "month": ("month", 1), "months": ("month", 1),
        "Month": ("month", 1), "MONTHLY": ("month", 1), "monthly": ("month", 1), "day": ("day", 1),
        "days": ("day", 1), "daily": ("day", 1), "week": ("week", 1), "weekly": ("week", 1), "year": ("year", 1),
        "years": ("year", 1), "yearly": ("year", 1), "annual": ("year", 1), "annually": ("year", 1),
        "2 months": ("month", 2), "3 Months": ("month", 3), "12 month": ("month", 12), "1 day": ("day", 1),
        "2  weeks": ("week", 2), " month ": ("month", 1), "1 daily": ("day", 1),
        "1000000000000000000000 months": ("month", 10**21)}


@pytest.mark.parametrize("text", SPELLINGS, ids=repr)
def test_the_bill_run_reads_a_period_as_the_check_does(text: Any) -> None:
    # one function for both (services.commitments.charge_period): what each spelling reads as
    read = READ.get(text) if isinstance(text, (str, type(None))) else None
    assert commitments.charge_period(text) == billing._period_of(text) == read


def _run_reads(price: dict[str, Any]) -> bool:
    """Whether the bill run bills the price (else it reports its account)."""
    money = price["price"]["taxIncludedAmount"]
    start = billing._instant("2026-05-01T00:00:00Z")
    assert start is not None
    return not isinstance(billing._fee("p", price, "fee", money, start, None), str)


CORPUS = [case[0] for case in REFUSED.values()] + [
    _price(), _price(period="daily"), _price(kind="oneTime", period=None), _price(value=Decimal("1E+14")),
    _price(value=Decimal("-1E+15")), _price(alterations=[_discount(applicationDuration=Decimal("3.0"))]),
    _price(alterations=[_discount(applicationDuration=10 ** 30)]), _price(alterations=[_discount(value=2, unit="USD")]),
    _price(value=True), _price(value=None), _price(value=[1]), _price(unit=3)]


@pytest.mark.parametrize("price", CORPUS, ids=lambda p: json.dumps(p, default=str)[-90:])
def test_the_check_and_the_bill_run_agree_on_a_price(price: dict[str, Any]) -> None:
    assert (commitments.price_problems(price) == []) == _run_reads(price)
    if commitments.price_problems(price):  # what the run cannot bill, a write never lets in
        assert commitments.price_problems(price, written=True)


_VALUES = st.one_of(st.integers(-(10 ** 17), 10 ** 17), st.decimals(allow_nan=True, allow_infinity=True),
                    st.floats(), st.sampled_from([None, True, "10", "abc", [], {}]))
_UNITS = st.sampled_from(["EUR", "USD", "JPY", "EURO", "eur", "XXX", "", None, 3])
_PERIODS = st.one_of(st.sampled_from(SPELLINGS), st.text(max_size=12))
_DURATIONS = st.one_of(st.integers(-3, 10 ** 20), st.sampled_from([None, True, "3", 1.5, 2.0, Decimal("4"),
                                                                     Decimal("4.5"), Decimal("NaN")]))


@st.composite
def _prices(draw: st.DrawFn) -> dict[str, Any]:
    price = _price(draw(_VALUES), draw(_UNITS), draw(st.sampled_from(["recurring", "oneTime"])), draw(_PERIODS))
    alterations = draw(st.lists(st.builds(lambda v, u, d: _discount(v, u, applicationDuration=d),
                                          _VALUES, _UNITS, _DURATIONS), max_size=2))
    if alterations:
        price["priceAlteration"] = alterations
    return price


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_prices())
def test_the_check_and_the_bill_run_agree_on_any_price(price: dict[str, Any]) -> None:
    assert (commitments.price_problems(price) == []) == _run_reads(price)
    if not _run_reads(price):
        assert commitments.price_problems(price, written=True)
