"""A credit's bill comes to its price line (a billing analyst's review of TMF678 bills, from
docs/billing.md: a price's charge is the price before its discounts, each discount follows it,
"so the bill comes to the price line").

A price line below zero — a goodwill credit written on a product, -5.00 EUR — with an
alteration taking 2.00 off was charged -3.00 (the credit before its discount) and its discount
left out, capped by "what is left of the charge", of which a credit has nothing: the customer
was credited 3.00, not 5.00. A monthly credit lost its discount's months alike."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.session_app import AppFor

API = "/tmf-api/customerBillManagement/v4"
RUN, BILL, RATE = f"{API}/billRun", f"{API}/customerBill", f"{API}/appliedCustomerBillingRate"
PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"


@pytest.fixture
def http(engine: Any, app_for: AppFor) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        created = client.post(ACCOUNT, json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        yield client


def _product(http: TestClient, id: str, kind: str, net: str, off: str, months: int | None = None) -> None:
    alteration: dict[str, Any] = {"name": f"{id}-off", "priceType": kind,
                                  "price": {"taxIncludedAmount": {"unit": "EUR", "value": -float(off)}}}
    if months is not None:
        alteration["applicationDuration"] = months
    price: dict[str, Any] = {"name": id, "priceType": kind, "billingAccount": {"id": "ba-ana"},
                             "price": {"taxIncludedAmount": {"unit": "EUR", "value": float(net)}},
                             "priceAlteration": [alteration]}
    created = http.post(INVENTORY, json={
        "id": id, "status": "active", "startDate": "2026-06-01T00:00:00Z", "productOffering": {"id": "plan"},
        "billingAccount": {"id": "ba-ana"}, "productPrice": [price],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text


def _bill(http: TestClient, month: str) -> tuple[list[tuple[str, str, Decimal]], Decimal]:
    bill = f"ba-ana-{month}-EUR"
    assert bill in http.post(RUN, json={"period": month}).json()["billsMade"]
    lines = json.loads(http.get(RATE, params={"bill.id": bill}).text, parse_float=Decimal)
    total = json.loads(http.get(f"{BILL}/{bill}").text, parse_float=Decimal)["amountDue"]["value"]
    return [(r["appliedBillingRateType"], r["name"], r["taxIncludedAmount"]["value"]) for r in lines], total


@pytest.mark.parametrize(("net", "off", "charge"), [
    ("-5.00", "2.00", "-3.00"),  # a credit
    ("-1.00", "2.00", "1.00"),  # a credit whose charge before its discount is above zero
    ("5.00", "2.00", "7.00"),  # a price (as before)
])
def test_a_one_time_credit_is_billed_its_price_line(http: TestClient, net: str, off: str, charge: str) -> None:
    _product(http, "p-once", "oneTime", net, off)
    lines, total = _bill(http, "2026-06")
    assert lines == [("oneTimeCharge", "p-once", Decimal(charge)), ("discount", "p-once-off", -Decimal(off))]
    assert total == Decimal(net)


def test_a_monthly_credit_is_billed_its_price_line_while_its_discount_lasts(http: TestClient) -> None:
    _product(http, "p-month", "recurring", "-10.00", "2.00", months=1)
    june, june_total = _bill(http, "2026-06")
    assert june == [("recurringCharge", "p-month", Decimal("-8.00")), ("discount", "p-month-off", Decimal("-2.00"))]
    assert june_total == Decimal("-10.00")
    july, july_total = _bill(http, "2026-07")
    assert july == [("recurringCharge", "p-month", Decimal("-8.00"))] and july_total == Decimal("-8.00")
