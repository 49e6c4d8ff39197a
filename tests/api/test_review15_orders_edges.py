"""A partner integrator's first orders (TMF622), from the docs alone: what an order says
is what the inventory gets, or the order is refused saying why — never a silent
substitution. Expected values are written here, not derived from the code under test."""
from __future__ import annotations

from typing import Any

from tests.api.test_tmf622_orders import (  # noqa: F401  (http: the fixture)
    ACCOUNT, INVENTORY, MERGE, ORDER, PLAN_SMALL, SMARTPHONE, _item, _move, _order, http,
)


def _account(http: Any, id: str) -> None:
    assert http.post(f"{ACCOUNT}/billingAccount", json={"id": id, "name": "Ana's other account", "relatedParty": [
        {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201


def _complete(http: Any, order_id: str) -> dict[str, Any]:
    assert _move(http, order_id, "inProgress").status_code == 200
    completed = _move(http, order_id, "completed")
    assert completed.status_code == 200, completed.text
    return completed.json()


def test_the_billing_account_an_order_names_is_the_one_its_products_are_billed_to(http: Any) -> None:
    """Was: the order's billingAccount was kept and ignored — the products were billed to
    the customer's first account (ba-ana), not to the one the order named."""
    _account(http, "ba-ana-company")
    order = http.post(ORDER, json=_order(billingAccount={"id": "ba-ana-company"}))
    assert order.status_code == 201, order.text
    assert _complete(http, order.json()["id"])["state"] == "completed"
    products = http.get(f"{INVENTORY}/product").json()
    assert len(products) == 2
    for product in products:
        assert {p.get("billingAccount", {}).get("id") for p in product["productPrice"]} == {"ba-ana-company"}
    plan = next(p for p in products if p["productOffering"]["id"] == "mobile-telephony-plan")
    assert plan["billingAccount"] == {"id": "ba-ana-company"}


def test_an_order_naming_a_billing_account_that_does_not_exist_is_refused_and_nothing_is_stored(http: Any) -> None:
    """Was: accepted (201), and its products billed to the customer's own account."""
    refused = http.post(ORDER, json=_order(billingAccount={"id": "ba-nobody"}))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "unknownReference"
    assert "billingAccount.id" in refused.json()["message"] and "'ba-nobody'" in refused.json()["message"]
    assert http.get(ORDER).json() == []


def test_an_order_whose_billing_account_went_away_fails_at_completion_and_makes_nothing(http: Any) -> None:
    _account(http, "ba-ana-company")
    order_id = http.post(ORDER, json=_order(billingAccount={"id": "ba-ana-company"})).json()["id"]
    assert http.delete(f"{ACCOUNT}/billingAccount/ba-ana-company").status_code == 204
    assert _move(http, order_id, "inProgress").status_code == 200
    failed = _move(http, order_id, "completed").json()
    assert failed["state"] == "failed"
    assert any("ba-ana-company" in note["text"] for note in failed["note"])
    assert http.get(f"{INVENTORY}/product").json() == []
