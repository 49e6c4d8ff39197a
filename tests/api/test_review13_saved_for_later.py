"""An item saved for later (TMF663 ``status: saveForLater``) shown priced (review 13, D3 and
D5): what it would add bought with the rest of the cart, wherever it is in the cart; and
the configuration check with ``providePrice`` shows the prices its cart shows, items saved
for later included (in no total). Over HTTP, on both tiers, with the devices example."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_review13_cart_actions import CART, CHECK, CUSTOMER, PLAN, _cart, _checked, _item, amounts, \
    exact
from tests.api.test_review13_cart_actions import http as http  # noqa: F401 - the fixture

SAVED = "saveForLater"
DELUXE = _item("2", "ipad-mini-deluxe", {"memorySize": "32GB"})  # 379.00, 50 off once per plan


def _total(cart: Any) -> Any:
    return {(t["priceType"], t.get("recurringChargePeriod")): t["price"]["taxIncludedAmount"]["value"]
            for t in cart["cartTotalPrice"]}


def test_an_item_saved_for_later_shows_what_it_adds_wherever_it_is_in_the_cart(http: Any) -> None:
    """Was: first in the cart, the saved iPad took the plan's 50 off (329.00) that the iPad
    bought with the cart gets: bought, it would add 379.00."""
    saved = {**DELUXE, "id": "0", "status": SAVED}
    first = _cart(http, saved, PLAN, DELUXE, id="first")
    last = _cart(http, PLAN, DELUXE, saved, id="last")
    assert amounts(first["cartItem"][0]["itemPrice"]) == {("oneTime", None): "379.00 EUR"}
    assert first["cartItem"][0]["itemPrice"] == last["cartItem"][2]["itemPrice"]
    assert first["cartItem"][0]["itemTotalPrice"] == last["cartItem"][2]["itemTotalPrice"]
    assert first["cartItem"][2]["itemPrice"] == last["cartItem"][1]["itemPrice"]  # the one bought: 329.00
    assert first["cartTotalPrice"] == last["cartTotalPrice"]
    # what it adds: the cart with it bought, less the cart without it
    bought = _cart(http, {**saved, "status": "active"}, PLAN, DELUXE, id="bought")
    added = _total(bought)[("oneTime", None)] - _total(first)[("oneTime", None)]
    assert f"{added} EUR" == amounts(first["cartItem"][0]["itemPrice"])[("oneTime", None)] == "379.00 EUR"


def test_a_saved_bundle_component_shows_what_it_adds_wherever_it_is(http: Any) -> None:
    def bundle(*components: dict[str, Any]) -> dict[str, Any]:
        return _item("9", "mobile-with-tablet", cartItem=list(components))

    tablet = _item("9.2", "ipad-mini-deluxe", {"memorySize": "32GB"}, status=SAVED)
    line = _item("9.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])
    # the bundle's plan gives one iPad its 50 off: the iPad bought takes it, before or after the bundle
    first = _cart(http, bundle(tablet, line), DELUXE, id="first")
    last = _cart(http, DELUXE, bundle(line, tablet), id="last")
    assert first["cartItem"][0]["cartItem"][0]["itemPrice"] == last["cartItem"][1]["cartItem"][1]["itemPrice"]
    assert amounts(first["cartItem"][0]["cartItem"][0]["itemPrice"]) == {("oneTime", None): "379.00 EUR"}
    assert amounts(first["cartItem"][1]["itemPrice"]) == {("oneTime", None): "329.00 EUR"}
    assert first["cartTotalPrice"] == last["cartTotalPrice"]


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
