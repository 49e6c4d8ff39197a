"""A recurring fee is pro-rated to the exact active time, fractions of a second included (a
billing analyst's review of TMF678 bills, from docs/billing.md, "Pro-rating to the second":
fee × active time ÷ length of the price's period, rounded half-up to the minor unit).

The active time was taken as a binary float of seconds: 1,036,929.6 s became
1,036,929.59999999997… s, so a 100.00 EUR monthly fee from 18 June 23:57:50.4 — exactly
40.005 EUR of June, 40.01 half-up — was billed 40.00, a cent short."""
from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.session_app import AppFor

API = "/tmf-api/customerBillManagement/v4"
RUN, RATE = f"{API}/billRun", f"{API}/appliedCustomerBillingRate"
PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
JUNE = Decimal(30 * 86400)


@pytest.fixture
def http(engine: Any, app_for: AppFor) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        created = client.post(ACCOUNT, json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        yield client


@pytest.mark.parametrize(("start", "active_seconds"), [
    ("2026-06-18T23:57:50.4Z", Decimal("1036929.6")),  # 40.005 EUR: 40.01, not 40.00
    ("2026-06-30T23:57:50.4Z", Decimal("129.6")),  # 0.005 EUR: 0.01, not nothing
    ("2026-06-10T23:57:50.4Z", Decimal("1728129.6")),
])
def test_a_fee_is_pro_rated_on_the_exact_active_time(http: TestClient, start: str, active_seconds: Decimal) -> None:
    created = http.post(INVENTORY, json={
        "id": "p-1", "status": "active", "startDate": start, "productOffering": {"id": "plan"},
        "billingAccount": {"id": "ba-ana"}, "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "productPrice": [{"name": "fee", "priceType": "recurring", "recurringChargePeriod": "month",
                          "billingAccount": {"id": "ba-ana"}, "price": {"taxIncludedAmount": {"unit": "EUR", "value": 100}}}]})
    assert created.status_code == 201, created.text
    assert http.post(RUN, json={"period": "2026-06"}).json()["billsMade"] == ["ba-ana-2026-06-EUR"]
    lines = json.loads(http.get(RATE, params={"bill.id": "ba-ana-2026-06-EUR"}).text, parse_float=Decimal)
    expected = (Decimal(100) * active_seconds / JUNE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert [line["taxIncludedAmount"]["value"] for line in lines] == [expected]
