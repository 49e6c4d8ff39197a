"""A partner integrator's first orders (TMF622), from the docs alone: what an order says
is what the inventory gets, or the order is refused saying why — never a silent
substitution. Expected values are written here, not derived from the code under test."""
from __future__ import annotations

from typing import Any

import pytest

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


def _plan_product(http: Any) -> dict[str, Any]:
    _complete(http, http.post(ORDER, json=_order(productOrderItem=[PLAN_SMALL])).json()["id"])
    [plan] = http.get(f"{INVENTORY}/product").json()
    return plan


@pytest.mark.parametrize("change, where", [
    ({"product": {"productCharacteristic": [{"name": "simFormFactor", "value": "LARGE"}]}},
     "productOrderItem[0].product.productCharacteristic"),
    ({"product": {"realizingResource": [{"id": "sim-large"}]}}, "productOrderItem[0].product.realizingResource"),
    ({"productOffering": {"id": "extra-minutes"}}, "productOrderItem[0].productOffering.id"),
])
def test_a_modify_item_asking_for_a_change_no_completion_makes_is_refused_naming_it(
        http: Any, change: dict[str, Any], where: str) -> None:
    """Was: accepted, then completed — with the product as it was, nothing said."""
    plan = _plan_product(http)
    item = {"id": "1", "action": "modify", **change}
    item["product"] = {**change.get("product", {}), "id": plan["id"]}
    refused = http.post(ORDER, json=_order(productOrderItem=[item]))
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert message.startswith(f"{where}: this modify item would change") and "delete it and add it" in message
    assert len(http.get(ORDER).json()) == 1  # the first order only
    # naming the product alone (or its offering as it is) changes nothing, and is taken
    same = {"id": "1", "action": "modify", "product": {"id": plan["id"]}, "productOffering": plan["productOffering"]}
    assert http.post(ORDER, json=_order(productOrderItem=[same])).status_code == 201


@pytest.mark.parametrize("given", [{"completionDate": "2020-01-01T00:00:00Z"},
                                   {"cancellationDate": "2020-01-01T00:00:00Z"}, {"state": "completed"}])
def test_a_new_order_giving_what_only_its_moves_set_is_refused_and_nothing_is_stored(
        http: Any, given: dict[str, Any]) -> None:
    """Was: stored as given (an acknowledged order with a completionDate of 2020), or, for
    the state, answered acknowledged without a word."""
    [(name, _)] = given.items()
    refused = http.post(ORDER, json=_order(**given))
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith(f"{name}") and "new order" in refused.json()["message"]
    assert http.get(ORDER).json() == []
    assert http.post(ORDER, json=_order(state="acknowledged")).status_code == 201


@pytest.mark.parametrize("state", [None, "acknowledged"])
def test_a_note_patched_without_a_move_is_kept(http: Any, state: str | None) -> None:
    """Was: answered 200 with the order as it was, the note dropped."""
    order_id = http.post(ORDER, json=_order()).json()["id"]
    note = {"text": "customer asks for delivery after 5 pm"}
    patched = http.patch(f"{ORDER}/{order_id}", json={"note": [note], **({"state": state} if state else {})},
                         headers=MERGE)
    assert patched.status_code == 200, patched.text
    assert patched.json()["state"] == "acknowledged"
    assert [n["text"] for n in http.get(f"{ORDER}/{order_id}").json()["note"]] == [note["text"]]
    # a later move keeps it, and adds its own
    moved = http.patch(f"{ORDER}/{order_id}", json={"state": "inProgress", "note": [{"text": "picked"}]},
                       headers=MERGE).json()
    assert [n["text"] for n in moved["note"]] == [note["text"], "picked"]


@pytest.mark.parametrize("items, where", [
    ([PLAN_SMALL, {**SMARTPHONE, "quantity": 10 ** 7}], "productOrderItem[1].quantity"),
    ([{"id": "1", "action": "add", "productOffering": {"id": "mobile-with-tablet"}, "productOrderItem": [
        PLAN_SMALL | {"id": "1.1"}, _item("1.2", "ipad-mini-std") | {"quantity": 10 ** 7}]}],
     "productOrderItem[0].productOrderItem[1].quantity"),
])
def test_an_item_that_cannot_be_read_is_named_in_the_400(http: Any, items: list[Any], where: str) -> None:
    """Was: 'malformed order: quantity: …', naming no item of the order."""
    refused = http.post(ORDER, json=_order(productOrderItem=items))
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith(f"{where}: ") and "1000000" in refused.json()["message"]
    assert http.get(ORDER).json() == []


@pytest.mark.parametrize("related, said", [
    ([], "this one names none"),
    ([{"id": "ana", "role": "user", "@referredType": "Individual"}], "this one's roles: user"),
])
def test_an_order_naming_no_customer_is_refused_and_makes_nothing(http: Any, related: list[Any], said: str) -> None:
    """Was: placed and completed, checked for nobody; its products owned by nobody, or
    related to Ana and paid by no account."""
    refused = http.post(ORDER, json=_order(relatedParty=related))
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith("relatedParty: an order names its customer")
    assert said in refused.json()["message"]
    assert http.get(ORDER).json() == []


@pytest.mark.parametrize("extra, path", [
    ({"requestedStartDate": "9999-12-31T23:59:59Z"}, "requestedStartDate"),
    ({"productOrderItem": [PLAN_SMALL | {"requestedStartDate": "9999-12-01"}, SMARTPHONE]},
     "productOrderItem[0].requestedStartDate"),
])
def test_a_start_in_the_calendar_s_last_month_is_refused_when_placed(http: Any, extra: dict[str, Any],
                                                                    path: str) -> None:
    """Was: placed (201); an offering with included allowances then had its completion
    answered 500 (the month after the start: year 10000), the order stuck in progress."""
    refused = http.post(ORDER, json=_order(**extra))
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith(f"{path}: a date before 9999-12-01T00:00:00Z is expected")
    assert http.get(ORDER).json() == []


def test_a_start_in_the_calendar_s_last_month_given_on_completion_is_refused(http: Any) -> None:
    order_id = http.post(ORDER, json=_order()).json()["id"]
    assert _move(http, order_id, "inProgress").status_code == 200
    refused = http.patch(f"{ORDER}/{order_id}", headers=MERGE, json={"state": "completed", "productOrderItem": [
        {"id": "1", "action": "add", "product": {"startDate": "9999-12-15T00:00:00Z"}}]})
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith("productOrderItem[0].product.startDate: a date before 9999-12-01")
    assert http.get(f"{ORDER}/{order_id}").json()["state"] == "inProgress"
    assert http.get(f"{INVENTORY}/product").json() == []


def test_a_body_typed_as_something_else_than_an_order_is_refused(http: Any) -> None:
    """Was: taken (201, 200), its @type ignored."""
    refused = http.post(ORDER, json=_order(**{"@type": "ShoppingCart"}))
    assert (refused.status_code, refused.json()["message"]) == (400, "@type: this is a ProductOrder, not 'ShoppingCart'")
    assert http.get(ORDER).json() == []
    order_id = http.post(ORDER, json=_order(**{"@type": "ProductOrder"})).json()["id"]
    patched = http.patch(f"{ORDER}/{order_id}", json={"@type": "Foo", "state": "cancelled"}, headers=MERGE)
    assert patched.status_code == 400, patched.text
    assert http.get(f"{ORDER}/{order_id}").json()["state"] == "acknowledged"
