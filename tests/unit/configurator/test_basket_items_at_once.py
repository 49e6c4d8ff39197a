"""A request's cartItems validated by pydantic in one call (``services.configuration.basket_items``)
are the items built one by one (``basket_item``), and a malformed one gets the same error."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.services.configuration import basket_item, basket_items

IDS = st.sampled_from(["po-1", "po-2", "bad id", "", " po-3 ", "po:x.y"])
VALUES = st.one_of(st.sampled_from(["gold", " 32GB ", "", "\u00a0x\u00a0"]), st.integers(-3, 3), st.booleans(),
                   st.floats(allow_nan=True, allow_infinity=True), st.none(), st.just({"a": 1}),
                   st.lists(st.sampled_from(["a", "b", 1, None]), max_size=3))


def _characteristic(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([{"value": "x"}, "colour", None]))  # no name, not an object
    return {"name": draw(st.sampled_from(["colour", "memorySize", "speed"])), "value": draw(VALUES)}


@st.composite
def cart_items(draw: st.DrawFn, depth: int = 0) -> Any:
    item: dict[str, Any] = {}
    if draw(st.integers(0, 12)) != 0:
        item["productOffering"] = {"id": draw(IDS)}
    if draw(st.booleans()):
        item["id"] = draw(st.sampled_from(["1", "", "x"]))
    if draw(st.booleans()):
        item["quantity"] = draw(st.sampled_from([1, 2, 0, -1, "2", None, 1.5]))
    if draw(st.booleans()):
        item["product"] = {"productCharacteristic": [_characteristic(draw) for _ in range(draw(st.integers(0, 3)))]}
        if draw(st.booleans()):
            item["product"]["realizingResource"] = [{"id": draw(st.sampled_from(["sim-nano", 3, "bad id"]))}]
    if depth < 2 and draw(st.booleans()):
        item["cartItem"] = draw(st.lists(cart_items(depth + 1), max_size=2))
    return item


def _outcome(build: Any) -> Any:
    try:
        return "items", [item.model_dump() for item in build()]
    except Exception as exc:  # the error, as the request's answer would say it
        return "error", type(exc).__name__, str(exc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(cart_items(), min_size=1, max_size=4))
def test_cart_items_validated_at_once_are_the_items_built_one_by_one(items: list[dict[str, Any]]) -> None:
    one_by_one = _outcome(lambda: [basket_item(data, f"cartItem[{i}]") for i, data in enumerate(items)])
    assert _outcome(lambda: basket_items(items)) == one_by_one


def test_a_well_formed_basket_is_validated_in_one_call(monkeypatch: Any) -> None:
    from bssrules.configurator import model

    calls: list[int] = []
    init = model.BasketItem.__init__

    def counted(self: Any, **data: Any) -> None:
        calls.append(1)
        init(self, **data)

    monkeypatch.setattr(model.BasketItem, "__init__", counted)
    items = [{"productOffering": {"id": "po-1"}, "cartItem": [{"productOffering": {"id": "po-2"}}]}]
    built = basket_items(items)
    assert [(i.offering, [c.offering for c in i.items]) for i in built] == [("po-1", ["po-2"])]
    assert calls == []  # no item built one by one
