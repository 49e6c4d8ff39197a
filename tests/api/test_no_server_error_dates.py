"""A product's dates are dates: startDate, terminationDate and orderDate that are text but no
date ("garbage", "2026-13-45") are a 400 naming the field at create and at patch. Such a
product used to be accepted, and every later bill run failed with a 500. A bill run over
products stored before this check (whose dates cannot be read) bills every other account and
reports the accounts it left unbilled, with the reason; fixed, the next run bills them."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.services.records import StoredResource
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILL_RUN = "/tmf-api/customerBillManagement/v4/billRun"
MERGE = {"content-type": "application/merge-patch+json"}
FEE = [{"name": "fee", "priceType": "recurring", "recurringChargePeriod": "month",
        "price": {"taxIncludedAmount": {"unit": "EUR", "value": 10}}}]


def _product(product_id: str, account: str, **dates: Any) -> dict[str, Any]:
    return {"id": product_id, "name": product_id, "status": "active", "productOffering": {"id": "mobile-data-plan"},
            "billingAccount": {"id": account}, "productPrice": FEE, **dates}


@pytest.fixture
def http(engine: Engine, app_for: Callable[..., Any]) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/tmf-api/party/v4/individual", json={"id": "ana", "givenName": "A", "familyName": "S"})
        assert response.status_code == 201, response.text
        for account in ("ba-ok", "ba-bad"):
            response = client.post(ACCOUNT, json={"id": account, "name": account, "relatedParty": [
                {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
            assert response.status_code == 201, response.text
        yield client


@pytest.mark.parametrize("field", ["startDate", "terminationDate", "orderDate"])
@pytest.mark.parametrize("value", ["garbage", "2026-13-45", "2026-02-30T10:00:00Z", "9999-12-31T23:59:59-23:59",
                                   "2026-06-01T10:00:00"])  # a date-time of no zone: see test_review_product_dates
def test_a_product_date_that_is_no_date_is_a_400_at_create_and_at_patch(http: TestClient, field: str,
                                                                       value: str) -> None:
    created = http.post(INVENTORY, json=_product("p1", "ba-ok", **{field: value}))
    assert created.status_code == 400, created.text
    assert created.json()["message"].startswith(f"{field}: "), created.json()
    assert http.post(INVENTORY, json=_product("p1", "ba-ok", startDate="2026-01-01")).status_code == 201
    patched = http.patch(f"{INVENTORY}/p1", json={field: value}, headers=MERGE)
    assert patched.status_code == 400 and patched.json()["message"].startswith(f"{field}: "), patched.text
    assert http.get(f"{INVENTORY}/p1").json()["startDate"] == "2026-01-01"


@pytest.mark.parametrize("value", ["2026-06-01", "2026-06-01T10:00:00Z", "2026-06-01T10:00:00+02:00"])
def test_a_product_date_or_date_time_is_accepted(http: TestClient, value: str) -> None:
    response = http.post(INVENTORY, json=_product("p1", "ba-ok", startDate=value, terminationDate=value))
    assert response.status_code == 201, response.text


def _store_as_before_the_check(engine: Engine, document: dict[str, Any]) -> None:
    now = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    with UnitOfWork(engine) as uow:
        uow.resources.insert(StoredResource("product", document["id"], 1, now, now,
                                            {k: v for k, v in document.items() if k != "id"}, state="active"))
        uow.commit()


def test_a_bill_run_over_a_product_of_unreadable_dates_bills_the_others_and_reports_its_account(
        http: TestClient, engine: Engine) -> None:
    assert http.post(INVENTORY, json=_product("p-ok", "ba-ok", startDate="2026-01-01")).status_code == 201
    _store_as_before_the_check(engine, _product("p-bad", "ba-bad", startDate="garbage"))

    run = http.post(BILL_RUN, json={"period": "2026-06"})
    assert run.status_code == 201, run.text
    assert run.json()["billsMade"] == ["ba-ok-2026-06-EUR"]
    assert run.json()["accountsNotBilled"] == [{
        "id": "ba-bad", "reason": "product p-bad: 'garbage' is not a date (YYYY-MM-DD) or date-time "
                                  "(YYYY-MM-DDThh:mm:ssZ)"}]
    only = http.post(BILL_RUN, json={"period": "2026-06", "billingAccount": [{"id": "ba-bad"}]})
    assert only.status_code == 201 and only.json()["billsMade"] == [], only.text

    # fixed by a patch (which names the date the product cannot keep until then), billed next run
    refused = http.patch(f"{INVENTORY}/p-bad", json={"name": "renamed"}, headers=MERGE)
    assert refused.status_code == 400 and refused.json()["message"].startswith("startDate: "), refused.text
    fixed = http.patch(f"{INVENTORY}/p-bad", json={"startDate": "2026-01-01"}, headers=MERGE)
    assert fixed.status_code == 200, fixed.text
    again = http.post(BILL_RUN, json={"period": "2026-06"})
    assert again.status_code == 201, again.text
    assert again.json()["billsMade"] == ["ba-bad-2026-06-EUR"] and "accountsNotBilled" not in again.json()
