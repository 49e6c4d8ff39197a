"""An offering that an open order (``acknowledged`` or ``inProgress``) orders cannot be
deleted (409 naming the order, nothing deleted), both tiers. It answered 204, and completing
the order afterwards failed it ("the offering is unknown"): the catalog manager's delete
silently broke a customer's order in flight. Once the order is cancelled (or failed, or
completed — then its product refers to the offering), the order no longer holds it.

The example is examples/allowances: plan-3gb, which no rule set names."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bssrules.services import catalog as services

ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
OFFERING = "/tmf-api/productCatalogManagement/v4/productOffering/plan-3gb"
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
MERGE = {"content-type": "application/merge-patch+json"}


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal) if response.content else None


@pytest.fixture
def http(allowances_client: TestClient) -> TestClient:
    """The allowances example, Ana and ba-ana (tests/api/conftest.py)."""
    return allowances_client


def _order(http: TestClient) -> str:
    order = _ok(http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "plan-3gb"}}]}))
    return str(order["id"])


@pytest.mark.parametrize("state", ["acknowledged", "inProgress"])
def test_an_offering_of_an_open_order_is_not_deleted(http: TestClient, state: str) -> None:
    order = _order(http)
    if state == "inProgress":
        _ok(http.patch(f"{ORDER}/{order}", json={"state": "inProgress"}, headers=MERGE), 200)
    refused = http.delete(OFFERING)
    assert refused.status_code == 409, refused.text
    assert refused.json()["message"] == (f"ProductOffering 'plan-3gb' is still referred to by "
                                         f"open ProductOrder '{order}'")
    _ok(http.get(OFFERING), 200)  # nothing deleted
    for target in (["inProgress"] if state == "acknowledged" else []) + ["completed"]:
        completed = _ok(http.patch(f"{ORDER}/{order}", json={"state": target}, headers=MERGE), 200)
    assert completed["state"] == "completed", completed


def test_the_open_states_are_those_an_order_moves_on_from() -> None:
    from bssrules.services.orders import KIND, TRANSITIONS

    assert services.OPEN_ORDER_STATES == set(TRANSITIONS) and KIND == "productOrder"


def test_an_offering_of_a_cancelled_order_only_is_deleted(http: TestClient) -> None:
    order = _order(http)
    _ok(http.patch(f"{ORDER}/{order}", json={"state": "cancelled"}, headers=MERGE), 200)
    _ok(http.delete(OFFERING), 204)
    _ok(http.get(OFFERING), 404)
