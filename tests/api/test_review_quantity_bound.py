"""A basket item's quantity has a bound (1,000,000: configurator.model.MAX_QUANTITY), both
tiers: a cart, a configuration check and an order of 10**30 of an offering answered 500 (no
price could be made of it: decimal.InvalidOperation), and 10**19 placed an order of
2,490,000,000,000,000,000,000.00 EUR. Now a 400 naming the quantity, nothing stored.

The example is examples/allowances: plan-3gb, 12.00 EUR a month."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bssrules.configurator.model import MAX_QUANTITY

ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
CART = "/tmf-api/shoppingCart/v4/shoppingCart"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(allowances_client: TestClient) -> TestClient:
    """The allowances example, Ana and ba-ana (tests/api/conftest.py)."""
    return allowances_client


def _bodies(quantity: int) -> dict[str, tuple[str, dict[str, Any]]]:
    item = {"id": "1", "quantity": quantity, "productOffering": {"id": "plan-3gb"}}
    return {"order": (ORDER, {"relatedParty": CUSTOMER, "productOrderItem": [dict(item, action="add")]}),
            "cart": (CART, {"relatedParty": CUSTOMER, "cartItem": [item]}),
            "check": (CHECK, {"relatedParty": CUSTOMER, "providePrice": True, "cartItem": [item]})}


@pytest.mark.parametrize("road", ["order", "cart", "check"])
@pytest.mark.parametrize("quantity", [10 ** 30, 10 ** 19, MAX_QUANTITY + 1])
def test_a_quantity_beyond_the_bound_is_a_400_and_nothing_is_stored(http: TestClient, road: str,
                                                                    quantity: int) -> None:
    path, body = _bodies(quantity)[road]
    response = http.post(path, json=body)
    assert response.status_code == 400, response.text
    assert "quantity" in response.json()["message"]
    assert _ok(http.get(ORDER), 200) == [] and _ok(http.get(CART), 200) == []


def test_the_bound_itself_is_priced(http: TestClient) -> None:
    path, body = _bodies(MAX_QUANTITY)["order"]
    order = _ok(http.post(path, json=body))
    [total] = [t for t in order["orderTotalPrice"] if t.get("priceType") == "recurring"]
    assert total["price"]["taxIncludedAmount"]["value"] == Decimal("12000000.00")
