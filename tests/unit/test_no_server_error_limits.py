"""The pieces that keep hostile input from reaching the database, without a server: the limits
the use cases check are the widths of the store's columns, unstorable text is found wherever
it is in a JSON value (and quoted escaped), an href is an ASCII URI whatever the id, and the
Location header made of it too."""
from __future__ import annotations

from typing import Any

import pytest

from bssrules import jsontext
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.services import records
from bssrules.store.tables import catalog_attribute, resource, resource_attribute


def test_the_limits_the_use_cases_check_are_the_widths_of_the_columns() -> None:
    assert records.MAX_ID == resource.c.id.type.length
    assert records.MAX_STATE == resource.c.state.type.length
    assert records.MAX_INDEXED_PATH == resource_attribute.c.path.type.length == catalog_attribute.c.path.type.length
    assert records.MAX_INDEXED_VALUE == resource_attribute.c.value.type.length


def test_attributes_of_paths_longer_than_the_index_keeps_are_not_indexed() -> None:
    document = {"a" * 201: "x", "b": {"c" * 198: "y", "d" * 199: "z"}, "e": "w"}  # b.c…: 200, b.d…: 201
    assert sorted(records.document_attributes(document)) == [("b." + "c" * 198, "y"), ("e", "w")]
    assert sorted(records.flatten(document)) == [("b." + "c" * 198, "y"), ("e", "w")]


@pytest.mark.parametrize(("value", "found"), [
    ({"a": "fine", "b": ["ok", {"c": "x\x00y"}]}, (("b", 1, "c"), "holds the NUL character (U+0000) at position 1")),
    (["\ud800"], ((0,), "holds a lone surrogate (U+D800) at position 0")),
    ({"a": {"k\x00": 1}}, (("a",), "the attribute name 'k\\u0000' holds the NUL character")),
    ("\udfff", ((), "holds a lone surrogate (U+DFFF)")),
])
def test_unstorable_text_is_found_wherever_it_is(value: Any, found: tuple[tuple[Any, ...], str]) -> None:
    result = jsontext.unstorable_text(value)
    assert result is not None and result[0] == found[0] and result[1].startswith(found[1]), result


@pytest.mark.parametrize("value", [{"a": "😀", "b": ["\U0010ffff", "é", "\x01\x1f"]}, 5, None, "x" * 10_000])
def test_text_of_any_valid_character_is_storable(value: Any) -> None:
    assert jsontext.unstorable_text(value) is None


@pytest.mark.parametrize(("resource_id", "link"), [
    ("plain-id_1.2~x", "/api/usage/plain-id_1.2~x"), ("u-😀", "/api/usage/u-%F0%9F%98%80"),
    ("a/b?c#d e%", "/api/usage/a%2Fb%3Fc%23d%20e%25"), ("x:y@z!$&'()*+,;=", "/api/usage/x:y@z!$&'()*+,;="),
])
def test_an_href_is_an_ascii_uri_whatever_the_id(resource_id: str, link: str) -> None:
    assert records.href("/api/usage", resource_id) == link
    assert location(link) == link, "an href made by records.href is already a Location"


def test_a_location_is_ascii_even_of_an_href_made_elsewhere() -> None:
    assert location("/api/x/ü 😀") == "/api/x/%C3%BC%20%F0%9F%98%80"


def test_a_response_of_a_stored_lone_surrogate_is_still_sent_as_json() -> None:
    response = TMFJSONResponse({"name": "a\ud800b", "ok": "é"})
    assert response.body == b'{"name": "a\\ud800b", "ok": "\\u00e9"}'
