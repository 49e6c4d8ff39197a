"""The early termination charge follows the product's termination (TMF637 PATCH, both tiers;
a CSP product manager's review of services.commitments): it is what terminating at the
product's ``terminationDate`` costs, so

- a terminated product whose ``terminationDate`` is corrected is charged at the new date (it
  kept the charge of the old one: terminated on 1 July, corrected to 1 December, it was billed
  July to November's fees and the 180.00 that stood for them too, in December);
- a product put back in force keeps no charge, and is charged when terminated again (it kept
  the first charge, billed in the month of its old date, and its second termination added
  nothing);
- a term whose start is written with an offset ends where the same instant in UTC does.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILLS = "/tmf-api/customerBillManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}
# all that is left is charged, to the end of the term: 1 January 2027
TERM = {"name": "12 months", "duration": {"amount": 12, "units": "month"}, "atEnd": "end",
        "earlyTermination": {"charge": "remainingRecurring"}}
PRICE = {"name": "fee", "priceType": "recurring", "recurringChargePeriod": "month", "billingAccount": {"id": "ba-ana"},
         "price": {"taxIncludedAmount": {"unit": "EUR", "value": 30}}}


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        created = client.post(ACCOUNT, json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        yield client


def _create(http: TestClient, product_id: str, start: str = "2026-01-01T00:00:00Z", term: Any = None) -> None:
    created = http.post(INVENTORY, json={
        "id": product_id, "status": "active", "startDate": start, "productOffering": {"id": "fibre-12"},
        "productPrice": [PRICE], "productTerm": [term or TERM],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text


def _patch(http: TestClient, product_id: str, **body: Any) -> list[tuple[Decimal, str]]:
    """The product's early termination charges after the patch: (amount, description)."""
    patched = http.patch(f"{INVENTORY}/{product_id}", json=body, headers=MERGE)
    assert patched.status_code == 200, patched.text
    prices = json.loads(patched.text, parse_float=Decimal)["productPrice"]
    return [(p["price"]["taxIncludedAmount"]["value"], p["description"]) for p in prices
            if p.get("@type") == "EarlyTerminationCharge"]


def _one_time_lines(http: TestClient, period: str) -> list[Decimal]:
    run = http.post(f"{BILLS}/billRun", json={"period": period})
    assert run.status_code == 201, run.text
    rates = [r for bill in run.json()["billsMade"]
             for r in json.loads(http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill}).text,
                                  parse_float=Decimal)]
    return [r["taxIncludedAmount"]["value"] for r in rates if r["appliedBillingRateType"] == "oneTimeCharge"]


def test_a_corrected_termination_date_is_charged_at_the_new_date(http: TestClient) -> None:
    _create(http, "p-1")
    # 1 July: July to December, 6 x 30.00
    [(first, _)] = _patch(http, "p-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    assert first == Decimal("180.00")
    # corrected to 1 December: December alone is left, 30.00
    [(moved, how)] = _patch(http, "p-1", terminationDate="2026-12-01T00:00:00Z")
    assert moved == Decimal("30.00") and "from 2026-12-01T00:00:00Z" in how
    # the same instant written otherwise, or another field changed: the charge stays as it is
    assert _patch(http, "p-1", terminationDate="2026-12-01") == [(moved, how)]
    assert _patch(http, "p-1", description="moved house") == [(moved, how)]
    # July's bill has only the month's fee; December's the charge of the 1st of December
    assert _one_time_lines(http, "2026-07") == []
    assert _one_time_lines(http, "2026-12") == [Decimal("30.00")]


def test_a_termination_corrected_into_the_term_is_charged_and_one_corrected_past_it_is_not(http: TestClient) -> None:
    _create(http, "p-1")
    assert _patch(http, "p-1", status="terminated", terminationDate="2027-03-01T00:00:00Z") == []  # the term is over
    assert [a for a, _ in _patch(http, "p-1", terminationDate="2026-11-01T00:00:00Z")] == [Decimal("60.00")]
    assert _patch(http, "p-1", terminationDate="2027-01-01T00:00:00Z") == []  # at the term's end: nothing left


def test_a_product_put_back_in_force_keeps_no_charge_and_is_charged_when_terminated_again(http: TestClient) -> None:
    _create(http, "p-1")
    assert [a for a, _ in _patch(http, "p-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")] == [
        Decimal("180.00")]
    assert _patch(http, "p-1", status="active") == []
    # terminated again on 1 October: October to December, 3 x 30.00
    [(again, how)] = _patch(http, "p-1", status="terminated", terminationDate="2026-10-01T00:00:00Z")
    assert again == Decimal("90.00") and "from 2026-10-01T00:00:00Z" in how


def test_a_term_whose_start_names_an_offset_ends_as_in_utc(http: TestClient) -> None:
    month = dict(TERM, name="1 month", duration={"amount": 1, "units": "month"}, atEnd="renew",
                 earlyTermination={"charge": "fixed", "amount": 10, "currency": "EUR"})
    # 31 January 00:30 in Paris is 30 January 23:30 UTC: the first month ends on 28 February 23:30 UTC
    _create(http, "in-paris", "2026-01-31T00:30:00+01:00", month)
    _create(http, "in-utc", "2026-01-30T23:30:00Z", month)
    for product_id in ("in-paris", "in-utc"):
        [(charge, how)] = _patch(http, product_id, status="terminated", terminationDate="2026-02-28T12:00:00Z")
        assert charge == Decimal("10") and how.endswith("to the end of the term, 2026-02-28T23:30:00Z"), how


def test_the_charges_left_are_paid_by_the_account_that_pays_each_recurring_price(http: TestClient) -> None:
    created = http.post(ACCOUNT, json={"id": "ba-usd", "name": "Ana in dollars", "relatedParty": [
        {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text
    dollars = dict(PRICE, name="fee in dollars", billingAccount={"id": "ba-usd"},
                   price={"taxIncludedAmount": {"unit": "USD", "value": 10}})
    created = http.post(INVENTORY, json={
        "id": "p-1", "status": "active", "startDate": "2026-01-01T00:00:00Z", "productOffering": {"id": "fibre-12"},
        "productPrice": [PRICE, dollars], "productTerm": [TERM],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text
    patched = http.patch(f"{INVENTORY}/p-1", json={"status": "terminated", "terminationDate": "2026-07-16T00:00:00Z"},
                         headers=MERGE)
    assert patched.status_code == 200, patched.text
    charges = [(p["billingAccount"]["id"], p["price"]["taxIncludedAmount"]["unit"],
                p["price"]["taxIncludedAmount"]["value"])
               for p in json.loads(patched.text, parse_float=Decimal)["productPrice"]
               if p.get("@type") == "EarlyTerminationCharge"]
    # 16 of July's 31 days, then August to December: 30 x 16/31 = 15.48 + 150.00; 10 x 16/31 = 5.16 + 50.00
    assert charges == [("ba-ana", "EUR", Decimal("165.48")), ("ba-usd", "USD", Decimal("55.16"))]
    run = http.post(f"{BILLS}/billRun", json={"period": "2026-07"})
    assert sorted(run.json()["billsMade"]) == ["ba-ana-2026-07-EUR", "ba-usd-2026-07-USD"]
    assert _one_time_lines_of(http, "ba-usd-2026-07-USD") == [Decimal("55.16")]


def _one_time_lines_of(http: TestClient, bill: str) -> list[Decimal]:
    rates = json.loads(http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill}).text,
                       parse_float=Decimal)
    return [r["taxIncludedAmount"]["value"] for r in rates if r["appliedBillingRateType"] == "oneTimeCharge"]
