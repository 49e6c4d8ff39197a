"""A billing period is a month written YYYY-MM and nothing else: ``2026-6`` was read as June
2026 — ``POST /billRun`` answered 201 and ``bssrules bill 2026-1`` printed "billed 2026-1"
— although billing.md says such a period is a 400 and exit 2. A period also names the bills
(``ba-ana-2026-06-EUR``) and keeps a month from being billed twice: it has one spelling.
The bill run, the settlement run and the command refuse it, and bill nothing."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bssrules import cli
from bssrules.pricing.billing import BillingPeriod

PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILLS = "/tmf-api/customerBillManagement/v4"
SETTLEMENT_RUN = f"{BILLS}/settlementRun"
NOT_A_MONTH = ["2026-6", "2026-1", "26-06", "2026-006", " 2026-06", "2026-06 ", "2026-06\n", "2026/06",
               "\uff12\uff10\uff12\uff16-06", "+2026-06"]


@pytest.mark.parametrize("label", NOT_A_MONTH)
def test_a_period_not_written_yyyy_mm_is_not_a_month(label: str) -> None:
    with pytest.raises(ValueError, match="a billing period is a month written YYYY-MM"):
        BillingPeriod.month(label)


def test_a_month_written_yyyy_mm_is_read() -> None:
    assert BillingPeriod.month("2026-06").label == "2026-06"
    assert BillingPeriod.month("2026-12").end.strftime("%Y-%m-%d") == "2027-01-01"


@pytest.fixture
def http(engine: Engine, app_for: Callable[..., Any]) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "A", "familyName": "S"}
                           ).status_code == 201
        assert client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        assert client.post(INVENTORY, json={
            "id": "p-1", "status": "active", "startDate": "2026-01-01", "billingAccount": {"id": "ba-ana"},
            "productPrice": [{"name": "fee", "priceType": "recurring", "recurringChargePeriod": "month",
                              "price": {"taxIncludedAmount": {"unit": "EUR", "value": 10}}}]}).status_code == 201
        yield client


@pytest.mark.parametrize("label", ["2026-6", "2026-1"])
def test_the_bill_run_refuses_a_period_not_written_yyyy_mm_and_bills_nothing(http: TestClient, label: str) -> None:
    response = http.post(f"{BILLS}/billRun", json={"period": label})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"a billing period is a month written YYYY-MM, got '{label}'"
    assert http.get(f"{BILLS}/customerBill").json() == []


def test_the_settlement_run_refuses_a_period_not_written_yyyy_mm(http: TestClient) -> None:
    response = http.post(SETTLEMENT_RUN, json={"period": "2026-6"})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "a billing period is a month written YYYY-MM, got '2026-6'"


def test_the_bill_command_refuses_a_period_not_written_yyyy_mm_with_exit_2(http: TestClient, engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli.app, ["bill", "2026-1", "--database-url", url])
    assert result.exit_code == 2, result.output
    assert "a billing period is a month written YYYY-MM, got '2026-1'" in result.output
    assert "billed" not in result.output
    assert http.get(f"{BILLS}/customerBill").json() == []
    made = CliRunner().invoke(cli.app, ["bill", "2026-01", "--database-url", url])
    assert made.exit_code == 0 and made.output.startswith("billed 2026-01: 1 bill made"), made.output
