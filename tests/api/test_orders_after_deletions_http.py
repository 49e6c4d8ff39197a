"""Over HTTP, on both tiers: an order, a cart and a configuration check are judged on the
inventory their own delete items leave (``services.terminations.after_deletions``).

Ana (the devices example) bought a plan with a small SIM, a smartphone and a 16 GB iPad mini
(a completed order). Was: swapping the iPad for the 32 GB one was refused for the iPad the
same order deletes (``excluded``, ``one-ipad-memory-size``), and deleting the plan alone was
accepted, leaving the smartphone and the iPad without the small SIM they need."""
from __future__ import annotations

from typing import Any

from tests.api.test_review13_cart_actions import (  # noqa: F401 - the fixtures
    CART, CHECK, CUSTOMER, INVENTORY, MERGE, ORDER, PHONE, PLAN, _completed, _item, http,
)

IPAD_16 = _item("3", "ipad-mini-std", {"memorySize": "16GB"})
IPAD_32 = _item("2", "ipad-mini-deluxe", {"memorySize": "32GB"})


def _bought(http: Any) -> dict[str, str]:
    return _completed(http, PLAN, PHONE, IPAD_16)


def _delete(id: str, product: str) -> dict[str, Any]:
    return {"id": id, "action": "delete", "product": {"id": product}}


def test_an_order_swapping_a_product_for_one_it_excludes_is_accepted_and_completed(http: Any) -> None:
    owned = _bought(http)
    swap = [_delete("1", owned["ipad-mini-std"]), IPAD_32]
    assert http.post(CHECK, json={"relatedParty": CUSTOMER, "cartItem": swap}).json()["violation"] == []
    assert http.post(CART, json={"id": "cart-swap", "relatedParty": CUSTOMER, "cartItem": swap}).status_code == 201
    assert http.post(CHECK, json={"shoppingCart": {"id": "cart-swap"}}).json()["valid"] is True
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": swap})
    assert placed.status_code == 201, placed.text
    for state in ("inProgress", "completed"):
        moved = http.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE).json()
        assert moved["state"] == state, moved.get("note")
    statuses = {p["productOffering"]["id"]: p["status"] for p in http.get(INVENTORY).json()}
    assert statuses == {"mobile-telephony-plan": "active", "smartphone": "active", "ipad-mini-std": "terminated",
                        "ipad-mini-deluxe": "active"}


def test_an_order_leaving_a_product_without_what_it_requires_is_refused_at_its_delete_item(http: Any) -> None:
    owned = _bought(http)
    deleting = [{"id": "a", "action": "noChange", "product": {"id": owned["smartphone"]}},
                _delete("b", owned["mobile-telephony-plan"])]
    refused = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": deleting})
    assert refused.status_code == 422, refused.text
    found = [(v["rule"], v["path"], v["product"], v["deleted"]) for v in refused.json()["violation"]]
    assert found == [
        ("smartphone-needs-small-sim", "$.productOrderItem[1].product.id", owned["smartphone"],
         owned["mobile-telephony-plan"]),
        ("ipad-needs-small-sim", "$.productOrderItem[1].product.id", owned["ipad-mini-std"],
         owned["mobile-telephony-plan"])]
    checked = http.post(CHECK, json={"relatedParty": CUSTOMER, "cartItem": deleting}).json()
    assert [(v["rule"], v["path"]) for v in checked["violation"]] == [
        ("smartphone-needs-small-sim", "$.cartItem[1].product.id"), ("ipad-needs-small-sim", "$.cartItem[1].product.id")]
    # nothing was stored: the plan is still Ana's
    assert http.get(f"{INVENTORY}/{owned['mobile-telephony-plan']}").json()["status"] == "active"
