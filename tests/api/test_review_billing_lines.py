"""A bill's lines list in the bill's order however many there are (a billing analyst's review
of TMF678 bills, from docs/billing.md).

A line's id is its bill's id and its number in the bill, so that lines listed in the order of
their ids — the order of every list — come in the order of the bill. Numbered on four digits
whatever the bill's length, line 10000 of a fleet's bill (5,000 vehicles' fees, each followed by
its discount) sorted between lines 1000 and 1001: a fee's discount listed far from its fee."""
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
def http(sqlite_engine: Any, app_for: AppFor) -> Iterator[TestClient]:
    """Acme (an organization's individual contact) and its billing account ba-fleet — on SQLite
    only: the lines' numbering does not depend on the database, and storing a bill of 10,000
    lines took 187 s on the CI's PostgreSQL (one insert per line and its index rows; 19 s on SQLite)."""
    with app_for(sqlite_engine) as app, TestClient(app) as client:
        assert client.post(PARTY, json={"id": "acme", "givenName": "Acme", "familyName": "Fleet"}).status_code == 201
        created = client.post(ACCOUNT, json={"id": "ba-fleet", "name": "fleet", "relatedParty": [
            {"id": "acme", "name": "Acme", "role": "owner", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        yield client


def test_the_lines_of_a_bill_of_more_than_9999_lines_list_in_the_bills_order(http: TestClient) -> None:
    vehicles = 5000  # a fee and its discount each: 10,000 lines
    prices = [{"name": f"vehicle-{i:05d}", "priceType": "recurring", "recurringChargePeriod": "month",
               "billingAccount": {"id": "ba-fleet"}, "price": {"taxIncludedAmount": {"unit": "EUR", "value": 1.50}},
               "priceAlteration": [{"name": f"fleet-{i:05d}", "priceType": "recurring",
                                    "price": {"taxIncludedAmount": {"unit": "EUR", "value": -0.50}}}]}
              for i in range(vehicles)]
    created = http.post(INVENTORY, json={
        "id": "fleet", "status": "active", "startDate": "2026-06-01T00:00:00Z", "productOffering": {"id": "plan"},
        "billingAccount": {"id": "ba-fleet"}, "productPrice": prices,
        "relatedParty": [{"id": "acme", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text[:300]
    run = http.post(RUN, json={"period": "2026-06"})
    assert run.status_code == 201 and run.json()["billsMade"] == ["ba-fleet-2026-06-EUR"], run.text
    listed: list[dict[str, Any]] = []
    while True:
        page = http.get(RATE, params={"bill.id": "ba-fleet-2026-06-EUR", "fields": "name,taxIncludedAmount",
                                      "offset": len(listed), "limit": 1000})
        assert page.status_code == 200, page.text
        got = json.loads(page.text, parse_float=Decimal)
        if not got:
            break
        listed += got
    # the bill's order: each vehicle's fee (prices by name), then its discount
    expected = [name for i in range(vehicles) for name in (f"vehicle-{i:05d}", f"fleet-{i:05d}")]
    assert [line["name"] for line in listed] == expected
    ids = [line["id"] for line in listed]
    assert ids == sorted(ids) and len(set(ids)) == 2 * vehicles
    total = json.loads(http.get(f"{BILL}/ba-fleet-2026-06-EUR").text, parse_float=Decimal)["amountDue"]["value"]
    assert total == sum(line["taxIncludedAmount"]["value"] for line in listed) == vehicles * Decimal("1.50")  # the net price lines
