"""An order does not terminate a product before the product starts (TMF622 item ``action:
delete``, both tiers): a delete item whose ``requestedStartDate`` (its own, else the order's)
is before the product's ``startDate`` is refused with 422 ``terminationBeforeStart`` and
nothing is stored — as a patch of such a ``terminationDate`` is refused with 400
(test_review_product_dates.py). The order went through before, and completing it wrote a
``terminationDate`` before the ``startDate``.

The example is examples/allowances: 12.00 EUR a month."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(allowances_client: TestClient) -> TestClient:
    """The allowances example, Ana and ba-ana (tests/api/conftest.py); her plan from 1 June 2026."""
    client = allowances_client
    order = _ok(client.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-06-01T00:00:00Z",
                                         "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                                               "productOffering": {"id": "plan-3gb"}}]}))
    for state in ("inProgress", "completed"):
        _ok(client.patch(f"{ORDER}/{order['id']}", json={"state": state},
                         headers={"content-type": "application/merge-patch+json"}), 200)
    return client


def _line(http: TestClient) -> dict[str, Any]:
    [product] = _ok(http.get(INVENTORY), 200)
    return dict(product)


@pytest.mark.parametrize("where", ["order", "item"])
def test_an_order_terminating_a_product_before_it_starts_is_refused(http: TestClient, where: str) -> None:
    line = _line(http)
    item = {"id": "1", "action": "delete", "product": {"id": line["id"]}}
    body: dict[str, Any] = {"relatedParty": CUSTOMER, "productOrderItem": [item]}
    if where == "order":
        body["requestedStartDate"] = "2026-05-01T00:00:00Z"
    else:
        item["requestedStartDate"] = "2026-05-01T00:00:00Z"
    response = http.post(ORDER, json=body)
    assert response.status_code == 422, response.text
    [violation] = [v for v in response.json()["violation"] if v["code"] == "terminationBeforeStart"]
    assert violation["path"] == ("$.requestedStartDate" if where == "order" else "$.productOrderItem[0].requestedStartDate")
    assert violation["message"] == (f"product '{line['id']}' starts 2026-06-01T00:00:00Z: it cannot be terminated "
                                    "at 2026-05-01T00:00:00Z, before it starts")
    assert len(_ok(http.get(ORDER), 200)) == 1  # the first order only
    assert _line(http) == line


def test_an_order_terminating_a_product_after_it_starts_is_placed(http: TestClient) -> None:
    line = _line(http)
    _ok(http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-06-01T00:00:00Z",
                               "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": line["id"]}}]}))
