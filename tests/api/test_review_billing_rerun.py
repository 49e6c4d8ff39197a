"""A re-run of a month lists every bill made before (a billing analyst's review of TMF678 bill
runs, from docs/billing.md: "the bills of a month already made are found by their ids,
reported in billsAlreadyMade, and nothing is billed twice").

The run read the month's bills in one page of 100,000: an operator with more bills in a month
saw the others left out of ``billsAlreadyMade`` — and a re-run naming an account whose bill
lay beyond that page answered ``billsMade: [], billsAlreadyMade: []``, as for an account with
nothing due. The page size is lowered here (the run reads every page whatever its size), so
that a few bills stand for 100,000."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from bssrules.services import billing
from tests.api.session_app import AppFor

API = "/tmf-api/customerBillManagement/v4"
RUN = f"{API}/billRun"
PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
ACCOUNTS = [f"ba-{i}" for i in range(5)]


@pytest.fixture
def http(engine: Any, app_for: AppFor) -> Iterator[TestClient]:
    """Ana, five billing accounts, each paying a 10.00 EUR monthly fee from 1 June 2026."""
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        for account in ACCOUNTS:
            created = client.post(ACCOUNT, json={"id": account, "name": account, "relatedParty": [
                {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
            assert created.status_code == 201, created.text
            created = client.post(INVENTORY, json={
                "id": f"p-{account}", "status": "active", "startDate": "2026-06-01T00:00:00Z",
                "productOffering": {"id": "plan"}, "billingAccount": {"id": account},
                "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
                "productPrice": [{"name": "fee", "priceType": "recurring", "billingAccount": {"id": account},
                                  "price": {"taxIncludedAmount": {"unit": "EUR", "value": 10}}}]})
            assert created.status_code == 201, created.text
        yield client


def test_a_rerun_lists_every_bill_of_the_month_beyond_a_page(http: TestClient, monkeypatch: Any) -> None:
    monkeypatch.setattr(billing, "_BILLS_PAGE", 2)
    bills = [f"{a}-2026-06-EUR" for a in ACCOUNTS]
    first = http.post(RUN, json={"period": "2026-06"}).json()
    assert (first["billsMade"], first["billsAlreadyMade"]) == (bills, [])
    again = http.post(RUN, json={"period": "2026-06"}).json()
    assert (again["billsMade"], again["billsAlreadyMade"]) == ([], bills)
    last = http.post(RUN, json={"period": "2026-06", "billingAccount": [{"id": ACCOUNTS[-1]}]}).json()
    assert (last["billsMade"], last["billsAlreadyMade"]) == ([], bills[-1:])
    # a run that makes some bills lists only the others as made before
    http.post(INVENTORY, json={
        "id": "p-new", "status": "active", "startDate": "2026-06-01T00:00:00Z", "productOffering": {"id": "plan"},
        "billingAccount": {"id": ACCOUNTS[0]}, "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "productPrice": [{"name": "fee", "priceType": "recurring", "billingAccount": {"id": ACCOUNTS[0]},
                          "price": {"taxIncludedAmount": {"unit": "USD", "value": 10}}}]})
    mixed = http.post(RUN, json={"period": "2026-06"}).json()
    assert (mixed["billsMade"], mixed["billsAlreadyMade"]) == ([f"{ACCOUNTS[0]}-2026-06-USD"], bills)
