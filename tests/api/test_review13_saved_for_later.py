"""An item saved for later (TMF663 ``status: saveForLater``) shown priced (review 13, D5):
the configuration check with ``providePrice`` shows the prices its cart shows, items saved
for later included (in no total). Over HTTP, on both tiers, with the devices example."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_review13_cart_actions import CART, CHECK, CUSTOMER, PLAN, _cart, _checked, _item, exact
from tests.api.test_review13_cart_actions import http as http  # noqa: F401 - the fixture

SAVED = "saveForLater"
DELUXE = _item("2", "ipad-mini-deluxe", {"memorySize": "32GB"})  # 379.00, 50 off once per plan


@pytest.fixture
def stored(http: Any) -> Any:
    """The reviewer's cart: a plan saved for later, an iPad, a bundle with its iPad saved."""
    return _cart(http, {**PLAN, "status": SAVED}, DELUXE, _item("3", "mobile-with-tablet", cartItem=[
        _item("3.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
        _item("3.2", "ipad-mini-deluxe", {"memorySize": "32GB"}, status=SAVED)]), id="sf")


def _prices(items: list[Any]) -> list[Any]:
    return [(i["id"], i["itemPrice"], i["itemTotalPrice"], _prices(i.get("cartItem") or [])) for i in items]


def test_the_check_shows_the_prices_its_cart_shows_items_saved_for_later_included(http: Any, stored: Any) -> None:
    """Was: the check's cartItem left out items 1 and 3.2 (saved for later) that the cart
    shows priced."""
    checked = _checked(http, {"shoppingCart": {"id": "sf"}, "providePrice": True})
    cart = exact(http.get(f"{CART}/sf"))
    assert checked["cartTotalPrice"] == cart["cartTotalPrice"]
    assert _prices(checked["cartItem"]) == _prices(cart["cartItem"])
    assert [i["id"] for i in checked["cartItem"]] == ["1", "2", "3"]
    assert [i["id"] for i in checked["cartItem"][2]["cartItem"]] == ["3.1", "3.2"]
    # the same inline
    inline = _checked(http, {"cartItem": http.get(f"{CART}/sf").json()["cartItem"], "relatedParty": CUSTOMER,
                             "providePrice": True})
    assert _prices(inline["cartItem"]) == _prices(cart["cartItem"])
    assert inline["cartTotalPrice"] == cart["cartTotalPrice"]


def test_the_check_served_schema_holds_with_items_saved_for_later(http: Any, stored: Any) -> None:
    from jsonschema import Draft202012Validator

    document = http.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/CheckProductConfiguration", "components": document["components"]}
    answer = http.post(CHECK, json={"shoppingCart": {"id": "sf"}, "providePrice": True}).json()
    assert [e.message for e in Draft202012Validator(schema).iter_errors(answer)] == []
