"""A product's dates are unambiguous and in order (TMF637, both tiers): a ``terminationDate``
before the product's ``startDate`` is refused — it was accepted, and a 24-month commitment
terminated "in 2025" while starting in 2026 was charged 360.00 of early termination for a
time before it existed — and so is a date-time that names no time zone, as a usage's is
(12:00 of which zone?). Refused, the request changes nothing. A plain date (the day's start,
UTC) is still read, and a termination after the start is still charged.

The product is api.md's Commitments example: 30.00 a month from 1 January 2026, 24 months."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
MERGE = {"content-type": "application/merge-patch+json"}
TERM = {"name": "24 months", "duration": {"amount": 24, "units": "month"}, "atEnd": "renew",
        "earlyTermination": {"charge": "remainingRecurring", "share": 0.5},
        "validFor": {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2028-01-01T00:00:00Z"}}


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _refused(response: Any, field: str, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalidInput" and field in body["message"] and words in body["message"], body


def _product(product_id: str, **dates: str) -> dict[str, Any]:
    return {"id": product_id, "status": "active", "productOffering": {"id": "mobile-24"},
            "relatedParty": [{"id": "ana", "role": "owner", "@referredType": "Individual"}],
            "productPrice": [{"name": "mobile-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                              "billingAccount": {"id": "ba-ana"},
                              "price": {"taxIncludedAmount": {"unit": "EUR", "value": 30.00}}}],
            "productTerm": [TERM], **dates}


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        _ok(client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}))
        _ok(client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}))
        _ok(client.post(INVENTORY, json=_product("ana-mobile-24", startDate="2026-01-01T00:00:00Z")))
        yield client


def test_a_termination_before_the_start_is_refused_and_nothing_is_charged(http: TestClient) -> None:
    before = _ok(http.get(f"{INVENTORY}/ana-mobile-24"), 200)
    _refused(http.patch(f"{INVENTORY}/ana-mobile-24", headers=MERGE,
                        json={"status": "terminated", "terminationDate": "2025-01-01T00:00:00Z"}),
             "terminationDate", "before the product's startDate 2026-01-01T00:00:00Z")
    assert _ok(http.get(f"{INVENTORY}/ana-mobile-24"), 200) == before  # still active, no early termination charge


def test_a_start_moved_after_the_termination_is_refused(http: TestClient) -> None:
    _ok(http.patch(f"{INVENTORY}/ana-mobile-24", headers=MERGE,
                   json={"status": "terminated", "terminationDate": "2026-07-16T00:00:00Z"}), 200)
    _refused(http.patch(f"{INVENTORY}/ana-mobile-24", headers=MERGE, json={"startDate": "2026-08-01T00:00:00Z"}),
             "terminationDate", "before the product's startDate 2026-08-01T00:00:00Z")
    assert _ok(http.get(f"{INVENTORY}/ana-mobile-24"), 200)["startDate"] == "2026-01-01T00:00:00Z"


def test_a_product_created_ending_before_it_starts_is_refused(http: TestClient) -> None:
    _refused(http.post(INVENTORY, json=_product("p-2", startDate="2026-03-01", terminationDate="2026-02-28")),
             "terminationDate", "before the product's startDate 2026-03-01")
    assert http.get(f"{INVENTORY}/p-2").status_code == 404


@pytest.mark.parametrize("field", ["terminationDate", "startDate"])
def test_a_date_time_without_a_time_zone_is_refused(http: TestClient, field: str) -> None:
    before = _ok(http.get(f"{INVENTORY}/ana-mobile-24"), 200)
    _refused(http.patch(f"{INVENTORY}/ana-mobile-24", headers=MERGE,
                        json={"status": "terminated", field: "2026-07-10T12:00:00"}),
             field, "'2026-07-10T12:00:00' names no time zone")
    assert _ok(http.get(f"{INVENTORY}/ana-mobile-24"), 200) == before
    _refused(http.post(INVENTORY, json=_product("p-3", **{field: "2026-07-10T12:00:00"})), field, "names no time zone")
    assert http.get(f"{INVENTORY}/p-3").status_code == 404


def test_a_termination_after_the_start_is_charged_as_before(http: TestClient) -> None:
    ended = _ok(http.patch(f"{INVENTORY}/ana-mobile-24", headers=MERGE,
                           json={"status": "terminated", "terminationDate": "2026-07-16T00:00:00+02:00"}), 200)
    [charge] = [p for p in ended["productPrice"] if p.get("@type") == "EarlyTerminationCharge"]
    assert charge["price"]["taxIncludedAmount"]["unit"] == "EUR"
    _ok(http.post(INVENTORY, json=_product("p-4", startDate="2026-01-01", terminationDate="2026-01-01")))
