"""A product that has not started yet, terminated without a date, ends as it starts — never
before (both tiers). Undated, a termination means "now": a merge patch of ``status:
terminated`` and an order's delete item without ``requestedStartDate`` were dated at the
moment of the change, before a product whose ``startDate`` is in the future — a product
that ended before it started, which a dated termination is refused for
(test_review_product_dates.py, test_review_termination_order_dates.py).

The example is examples/allowances: 12.00 EUR a month."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bssrules.catalog.types import format_instant, parse_instant

ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
MERGE = {"content-type": "application/merge-patch+json"}
# A start some weeks ahead of whenever the test runs: not started yet, within any dating limit.
START = format_instant((dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=20)).replace(microsecond=0))


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _complete(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    order = _ok(client.post(ORDER, json=body))
    for state in ("inProgress", "completed"):
        order = _ok(client.patch(f"{ORDER}/{order['id']}", json={"state": state}, headers=MERGE), 200)
    return dict(order)


@pytest.fixture
def http(allowances_client: TestClient) -> TestClient:
    """The allowances example, Ana and ba-ana (tests/api/conftest.py); her plan from START."""
    order = _complete(allowances_client, {"relatedParty": CUSTOMER, "requestedStartDate": START, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "plan-3gb"}}]})
    assert order["state"] == "completed", order
    return allowances_client


def _line(http: TestClient) -> dict[str, Any]:
    [product] = _ok(http.get(INVENTORY), 200)
    assert parse_instant(product["startDate"]) == parse_instant(START)
    return dict(product)


def test_a_patch_terminating_a_product_before_it_starts_dates_it_at_its_start(http: TestClient) -> None:
    line = _line(http)
    after = _ok(http.patch(f"{INVENTORY}/{line['id']}", json={"status": "terminated"}, headers=MERGE), 200)
    assert after["status"] == "terminated"
    assert parse_instant(after["terminationDate"]) == parse_instant(START)
    assert _line(http)["terminationDate"] == after["terminationDate"]


def test_a_patch_terminating_a_started_product_dates_it_now(http: TestClient) -> None:
    line = _line(http)
    earlier = format_instant(dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=1))
    _ok(http.patch(f"{INVENTORY}/{line['id']}", json={"startDate": earlier}, headers=MERGE), 200)
    before = dt.datetime.now(dt.timezone.utc)
    after = _ok(http.patch(f"{INVENTORY}/{line['id']}", json={"status": "terminated"}, headers=MERGE), 200)
    ended = parse_instant(after["terminationDate"])
    assert isinstance(ended, dt.datetime) and before - dt.timedelta(seconds=1) <= ended <= dt.datetime.now(dt.timezone.utc)


def test_an_undated_order_terminating_a_product_before_it_starts_ends_it_at_its_start(http: TestClient) -> None:
    line = _line(http)
    order = _complete(http, {"relatedParty": CUSTOMER,
                             "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": line["id"]}}]})
    assert order["state"] == "completed", order
    ended = _line(http)
    assert ended["status"] == "terminated"
    assert parse_instant(ended["terminationDate"]) == parse_instant(START)
