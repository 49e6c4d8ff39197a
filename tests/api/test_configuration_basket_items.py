"""A cart item's offering id is read without the generic path walk when it is the plain
``{"productOffering": {"id": "…"}}`` (issue 13): the shortcut says what the walk says on any
JSON value, and a basket item is made as before."""
from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from bssrules.services.configuration import _one_id, _resource_ids, basket_item
from bssrules.services.resources import values_at

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(["", "x", "o-1", " a "]))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["id", "productOffering", "name"]), inner,
                                                  max_size=3)), max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_JSON, st.dictionaries(st.sampled_from(["productOffering", "id"]), _JSON, max_size=2)))
def test_the_offering_shortcut_says_what_the_path_walk_says(data: Any) -> None:
    assert _one_id(data, "productOffering") == values_at(data, "productOffering.id")


_RESOURCES = st.one_of(_JSON, st.lists(st.one_of(st.dictionaries(st.sampled_from(["id", "name"]), _JSON, max_size=2),
                                                 _SCALARS), max_size=3))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["realizingResource", "id"]), _RESOURCES, max_size=2))
def test_the_resources_shortcut_says_what_the_path_walk_says(product: Any) -> None:
    walked = [r for r in values_at(product, "realizingResource.id") if isinstance(r, str)] \
        if product.get("realizingResource") is not None else []
    assert _resource_ids(product) == walked


def test_a_plain_cart_item_and_its_components_become_the_same_basket_item() -> None:
    item = basket_item({"id": "1", "quantity": 2, "productOffering": {"id": "bundle"},
                        "product": {"productCharacteristic": [{"name": "colour", "value": "red"}],
                                    "realizingResource": [{"id": "rs-sim-nano"}, {"id": 5}]},
                        "cartItem": [{"id": "1.1", "productOffering": [{"id": "part"}]}]}, "cartItem[0]")
    assert (item.id, item.offering, item.quantity, item.characteristics, item.resources) == \
        ("1", "bundle", 2, {"colour": "red"}, ["rs-sim-nano"])
    assert [(c.id, c.offering) for c in item.items] == [("1.1", "part")]
