"""``bssrules bill MONTH`` tells which accounts the run could not bill, and why (the bill
run's ``accountsNotBilled``), and exits 1 then: the other accounts are billed, but the month
is not done until the products named are fixed and the month is run again."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bssrules import cli
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.services.records import StoredResource
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
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


def _store_as_before_the_date_check(engine: Engine, document: dict[str, Any]) -> None:
    now = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    with UnitOfWork(engine) as uow:
        uow.resources.insert(StoredResource("product", document["id"], 1, now, now,
                                            {k: v for k, v in document.items() if k != "id"}, state="active"))
        uow.commit()


def _bill(engine: Engine, month: str) -> Any:
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli.app, ["bill", month, "--database-url", url])


def test_bill_prints_the_accounts_it_could_not_bill_with_the_reason_and_exits_1(
        http: TestClient, engine: Engine) -> None:
    assert http.post(INVENTORY, json=_product("p-ok", "ba-ok", startDate="2026-01-01")).status_code == 201
    _store_as_before_the_date_check(engine, _product("p-bad", "ba-bad", startDate="garbage"))

    result = _bill(engine, "2026-06")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "billed 2026-06: 1 bill made, 0 already made, 1 account not billed"
    assert lines[1:] == [
        "  ba-ok-2026-06-EUR",
        "not billed (fix the product, then run the month again):",
        "  ba-bad: product p-bad: 'garbage' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)"]

    fixed = http.patch(f"{INVENTORY}/p-bad", json={"startDate": "2026-01-01"}, headers=MERGE)
    assert fixed.status_code == 200, fixed.text
    again = _bill(engine, "2026-06")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == ["billed 2026-06: 1 bill made, 1 already made", "  ba-bad-2026-06-EUR"]
