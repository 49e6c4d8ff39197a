"""Every route reads its body (bssrules.api.deps.read_json) with two shortcuts: the depth
over the containers only, NUL and lone surrogates searched only when the raw body spells a
``\\u`` escape. Every body gets the answer the thorough reading (every value walked, both
checks always) gives it."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from bssrules import jsontext
from bssrules.api.deps import JSON_TYPES, MAX_DEPTH, UnsupportedMediaType, body_path, read_json
from bssrules.errors import InvalidInput


async def thorough(request: Request) -> Any:
    """What read_json did before its shortcuts: the depth of every value, every text checked."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaType(f"send the body as {' or '.join(JSON_TYPES)}, not '{content_type or 'nothing'}'")
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("the request body is empty; a JSON object is expected")
    try:
        body = jsontext.loads(raw)
    except RecursionError:
        raise InvalidInput(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from None
    if jsontext.depth(body) > MAX_DEPTH:
        raise InvalidInput(f"the body is nested deeper than {MAX_DEPTH} levels")
    unstorable = jsontext.unstorable_text(body)
    if unstorable is not None:
        path, problem = unstorable
        raise InvalidInput(f"{body_path(path)}: {problem}", path=path)
    return body


def _request(raw: bytes, content_type: str = "application/json") -> Request:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    headers = [(b"content-type", content_type.encode())] if content_type else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}, receive)


def _answer(reader: Any, raw: bytes, content_type: str) -> Any:
    try:
        return "ok", asyncio.run(reader(_request(raw, content_type)))
    except Exception as exc:  # noqa: BLE001 - the answer compared is the error's kind, text and place
        return type(exc).__name__, str(exc), getattr(exc, "path", None)


def _nested(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


BODIES = [
    b'{"usageType": "x"}', b'[{"a": 1}, {"b": [1, 2, {"c": null}]}]', b"", b"   ", b"{", b'{"a": 1,}', b"NaN",
    b'{"a": "\\u0000"}', b'{"a": ["ok", "\\ud800"]}', b'{"\\u0000": 1}', b'{"a": "\\u00e9 \\n"}', b'"\\u0041"',
    b'{"a": "raw \x00 nul"}', b'{"a": "\xff\xfe"}', b'{"a": "\xed\xa0\x80"}', _nested(MAX_DEPTH), _nested(MAX_DEPTH + 1),
    _nested(5000), b'{"a": ' * 40 + b"1" + b"}" * 40, b"12", b"1.50", b"null", b'{"a": 1e400}',
]


@pytest.mark.parametrize("raw", BODIES)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_every_body_gets_the_answer_the_thorough_reading_gives(raw: bytes, content_type: str) -> None:
    async def fast(request: Request) -> Any:
        return await read_json(request, JSON_TYPES)

    assert _answer(fast, raw, content_type) == _answer(thorough, raw, content_type)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=3), children, max_size=3), max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(value=json_values, limit=st.integers(0, 6))
def test_the_depth_shortcut_says_what_the_depth_says(value: Any, limit: int) -> None:
    assert jsontext.deeper_than(value, limit) == (jsontext.depth(value) > limit)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=6))
def test_any_text_gets_the_answer_the_thorough_reading_gives(text: str) -> None:
    for raw in (json.dumps({"a": text}).encode(), json.dumps({"a": text}, ensure_ascii=False).encode("utf-8", "replace")):
        assert _answer(lambda r: read_json(r, JSON_TYPES), raw, "application/json") == \
            _answer(thorough, raw, "application/json")
