"""POST checkProductConfiguration is served by a plain Starlette route matched first (issue
13): every malformed body gets the very answer the query (read by ``deps.json_body``) gives
it, and the route stays documented."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from bssrules.jsontext import deeper_than, depth

API = "/tmf-api/productConfigurationManagement/v5"
CHECK, QUERY = f"{API}/checkProductConfiguration", f"{API}/queryProductConfiguration"
JSON = {"content-type": "application/json"}


def _nested(levels: int) -> bytes:
    return b'{"cartItem": [{"id": "1", "productOffering": {"id": "x"}, "product": {"productCharacteristic": [' \
        b'{"name": "n", "value": ' + b"[" * levels + b"]" * levels + b"}]}}]}"


MALFORMED: list[tuple[bytes, dict[str, str]]] = [
    (b'{"cartItem": []}', {"content-type": "text/plain"}),
    (b'{"cartItem": []}', {}),
    (b"", JSON), (b"  \n ", JSON),
    (b"{", JSON), (b'{"a": "\xff"}', JSON), (b'{"a": "x\x00y"}', JSON), (b'{"a": "\xed\xa0\x80"}', JSON),
    (b"[]", JSON), (b'"text"', JSON), (b"5", JSON), (b"null", JSON),
    (_nested(28), JSON), (_nested(27), JSON),  # one over the limit, and at it (then the basket's own error)
    (b"[" * 100_000 + b"]" * 100_000, JSON),
    (b'{"cartItem": [{"id": "1", "productOffering": {"id": "a\\u0000b"}}]}', JSON),
    (b'{"cartItem": [{"id": "1", "productOffering": {"id": "\\ud800"}}]}', JSON),
    (b'{"cartItem": [{"id": "1", "\\udfff": 1, "productOffering": {"id": "x"}}]}', JSON),
    (b'{"cartItem": [{"id": "1", "productOffering": {"id": "a\\\\u0000b"}}]}', JSON),  # a backslash, then u0000
    (b'{"id": 5, "cartItem": []}', JSON), (b'{"id": "a/b"}', JSON), (b'{"id": ".."}', JSON),
    (b'{"cartItem": "nothing"}', JSON), (b"{}", JSON),
]


@pytest.mark.parametrize("raw,headers", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_check_gets_the_answer_the_query_gets(client: Any, raw: bytes, headers: dict[str, str]) -> None:
    check = client.post(CHECK, content=raw, headers=headers)
    query = client.post(QUERY, content=raw, headers=headers)
    assert check.status_code == query.status_code and 400 <= check.status_code < 500, (check.text, query.text)
    assert check.json() == query.json()


def test_the_check_is_a_plain_route_matched_before_every_other_yet_documented(client: Any) -> None:
    routes = client.app.router.routes
    first = next(i for i, r in enumerate(routes) if isinstance(r, Route) and r.path == CHECK)
    assert type(routes[first]) is Route  # not FastAPI's APIRoute
    assert not any(isinstance(r, APIRoute) for r in routes[:first])
    operation = client.get("/openapi.json").json()["paths"][CHECK]["post"]
    assert operation["operationId"] == "checkProductConfiguration"
    assert client.get(CHECK).status_code == 405


@pytest.mark.parametrize("value", [0, "x", {}, [], [[]], {"a": [1, {"b": []}]}, [[[[[]]]]], {"a": {"b": {"c": 1}}},
                                   [1, [2, [3, [4]]], {"k": [[[]]]}]])
def test_the_depth_shortcut_says_what_the_depth_says(value: Any) -> None:
    for limit in range(0, 7):
        assert deeper_than(value, limit) == (depth(value) > limit), (value, limit)
