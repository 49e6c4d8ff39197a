"""The early termination charge counts what the bill run would still bill (TMF637 PATCH to
``terminated``, both tiers; a billing analyst's review of services.commitments).

The charge read a product's prices on its own, not as the bill run does:

- a discount of a million months (which the bill run bills as lasting as long as the
  product) went past the calendar in ``add_months``: the error was caught and the product
  terminated with no charge at all (not a 500, as suspected, but nothing charged);
- a period the bill run knows (``daily``, ``Days``) was read as a month: 1.00 a day charged
  18.00 for 18 months left, where the bill run bills 549.00;
- a surcharge (a positive ``priceAlteration``, which the bill run leaves in the charge) was
  taken out of the price once its months had passed;
- a price the bill run cannot bill (stored before prices were checked: ``fortnight``) was
  guessed monthly. The termination is refused with 400 naming the price, as a term that is
  not one is; correcting the price in the same patch terminates and charges. An order
  terminating it is refused (422) with a violation naming its item, the product and the price.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.store import UnitOfWork

PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
MERGE = {"content-type": "application/merge-patch+json"}
# all that is left is charged (share 1), from 1 July 2026 to the end of the term, 1 January 2028: 18 months
TERM = {"name": "24 months", "duration": {"amount": 24, "units": "month"}, "atEnd": "renew",
        "earlyTermination": {"charge": "remainingRecurring", "share": 1}}
TERMINATE = {"status": "terminated", "terminationDate": "2026-07-01T00:00:00Z"}


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        created = client.post(ACCOUNT, json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        yield client


def _price(value: Any = 30, period: str = "month", **more: Any) -> dict[str, Any]:
    return {"name": "fee", "priceType": "recurring", "recurringChargePeriod": period, "billingAccount": {"id": "ba-ana"},
            "price": {"taxIncludedAmount": {"unit": "EUR", "value": value}}, **more}


def _alteration(value: Any, months: Any) -> dict[str, Any]:
    return {"name": "promo", "priceType": "recurring", "applicationDuration": months,
            "price": {"taxIncludedAmount": {"unit": "EUR", "value": value}}}


def _create(http: TestClient, price: dict[str, Any]) -> None:
    created = http.post(INVENTORY, json={
        "id": "p-1", "status": "active", "startDate": "2026-01-01T00:00:00Z", "productOffering": {"id": "fibre-24"},
        "productPrice": [price], "productTerm": [TERM],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text


def _charge(response: Any) -> list[Any]:
    assert response.status_code == 200, response.text
    prices = json.loads(response.text, parse_float=Decimal)["productPrice"]
    return [p["price"]["taxIncludedAmount"] for p in prices if p.get("@type") == "EarlyTerminationCharge"]


@pytest.mark.parametrize(("price", "charge"), [
    (_price(), Decimal("540.00")),  # 18 months of 30.00
    # 30.00 net of a 10.00 discount lasting as long as the product: 30.00 a month left
    (_price(priceAlteration=[_alteration(-10, 10 ** 6)]), Decimal("540.00")),
    (_price(priceAlteration=[_alteration(-10, 10 ** 30)]), Decimal("540.00")),
    (_price(priceAlteration=[_alteration(-10, 8000 * 12)]), Decimal("540.00")),
    (_price(priceAlteration=[_alteration(-10, 3)]), Decimal("720.00")),  # the discount is over: 40.00 a month
    (_price(1, "daily"), Decimal("549.00")),  # 549 days, 1 July 2026 to 1 January 2028
    (_price(1, "Days"), Decimal("549.00")),
    (_price(7, "weekly"), Decimal("549.00")),
    (_price(60, "2 Months"), Decimal("540.00")),
    # a surcharge stays in the charge, as on a bill: 30.00 a month whatever its months
    (_price(priceAlteration=[_alteration(5, 3)]), Decimal("540.00")),
], ids=["plain", "a million months", "10**30 months", "8000 years", "3 months", "daily", "Days", "weekly",
        "2 Months", "a surcharge"])
def test_the_early_termination_charge_is_what_the_bill_run_would_still_bill(
        http: TestClient, price: dict[str, Any], charge: Decimal) -> None:
    _create(http, price)
    assert _charge(http.patch(f"{INVENTORY}/p-1", headers=MERGE, json=TERMINATE)) == [
        {"unit": "EUR", "value": charge}]


def _stored_before(engine: Engine, price: dict[str, Any]) -> None:
    """Give p-1 the price as a product kept before prices were checked holds it."""
    with UnitOfWork(engine) as uow:
        stored = uow.resources.get("product", "p-1", for_update=True)
        assert stored is not None
        uow.resources.replace(stored.bumped(dict(stored.document, productPrice=[price]), stored.last_update))
        uow.commit()


@pytest.mark.parametrize(("price", "path", "words"), [
    (_price(period="fortnight"), "productPrice[0].recurringChargePeriod", "'fortnight' is not a period"),
    (_price(priceAlteration=[_alteration(-10, "3")]), "productPrice[0].priceAlteration[0].applicationDuration",
     "applicationDuration '3' is not a whole number of months"),
    (_price(priceAlteration=[_alteration(-10, -1)]), "productPrice[0].priceAlteration[0].applicationDuration",
     "-1 is not a whole number"),
    (_price(priceAlteration=[{"name": "promo", "price": {"taxIncludedAmount": {"unit": "USD", "value": -10}}}]),
     "productPrice[0].priceAlteration[0].price.taxIncludedAmount.unit", "is in USD, its price in EUR"),
    (_price() | {"price": {"taxIncludedAmount": {"unit": "EUR"}}}, "productPrice[0].price.taxIncludedAmount.value",
     "an amount has a value"),
], ids=["fortnight", "months in text", "-1 month", "a discount in USD", "no value"])
def test_terminating_a_product_whose_price_the_bill_run_cannot_bill_is_refused_naming_the_price(
        http: TestClient, engine: Engine, price: dict[str, Any], path: str, words: str) -> None:
    _create(http, _price())
    _stored_before(engine, price)
    before = http.get(f"{INVENTORY}/p-1").json()
    refused = http.patch(f"{INVENTORY}/p-1", headers=MERGE, json=TERMINATE)
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert message.startswith(f"{path}: ") and words in message and "early termination charge" in message, message
    assert http.get(f"{INVENTORY}/p-1").json() == before  # still active, no charge

    # the price corrected in the same patch: terminated and charged
    assert _charge(http.patch(f"{INVENTORY}/p-1", headers=MERGE, json={**TERMINATE, "productPrice": [_price()]})) == [
        {"unit": "EUR", "value": Decimal("540.00")}]


def test_a_fixed_charge_does_not_read_the_prices(http: TestClient, engine: Engine) -> None:
    fixed = {**TERM, "earlyTermination": {"charge": "fixed", "amount": 100, "currency": "EUR"}}
    created = http.post(INVENTORY, json={
        "id": "p-1", "status": "active", "startDate": "2026-01-01T00:00:00Z", "productOffering": {"id": "fibre-24"},
        "productPrice": [_price()], "productTerm": [fixed],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text
    _stored_before(engine, _price(period="fortnight"))
    assert _charge(http.patch(f"{INVENTORY}/p-1", headers=MERGE, json=TERMINATE)) == [
        {"unit": "EUR", "value": Decimal("100.00")}]


ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"


def _order_terminating(http: TestClient) -> Any:
    return http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
                                  "requestedStartDate": "2026-07-01T00:00:00Z",
                                  "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "p-1"}}]})


def test_an_order_terminating_such_a_product_is_refused_naming_the_item_product_and_price(
        http: TestClient, engine: Engine) -> None:
    _create(http, _price())
    valued = _order_terminating(http)
    assert valued.status_code == 201, valued.text  # its price readable: valued with the charge
    assert valued.json()["productOrderItem"][0]["itemPrice"][0]["price"]["taxIncludedAmount"]["value"] == 540

    _stored_before(engine, _price(period="fortnight"))
    refused = _order_terminating(http)
    assert refused.status_code == 422, refused.text
    [violation] = refused.json()["violation"]
    assert violation["code"] == "chargeCannotBeComputed" and violation["path"] == "$.productOrderItem[0].product.id"
    assert violation["message"].startswith("product 'p-1': productPrice[0].recurringChargePeriod: 'fortnight'"), violation
