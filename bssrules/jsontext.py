"""JSON text with exact decimals: amounts are written and read as their decimal digits."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import simplejson

from bssrules.catalog.types import format_instant


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return format_instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False, ensure_ascii: bool = False) -> str:
    """Serialize with Decimals as exact JSON numbers (``ensure_ascii``: every other character
    as a JSON escape)."""
    return simplejson.dumps(value, use_decimal=True, default=_default, indent=indent, sort_keys=sort_keys,
                            ensure_ascii=ensure_ascii)


# What simplejson.loads(text, use_decimal=True) makes at every call, made once (a decoder
# holds no state between documents): a third of a small document's parse was building it.
_DECODER = simplejson.JSONDecoder(parse_float=Decimal)


def loads(text: str | bytes) -> Any:
    """Parse, reading every non-integer number as a Decimal."""
    return _DECODER.decode(text.decode("utf-8") if isinstance(text, bytes) else text)  # (as simplejson.loads)


# Beyond this many digits from the decimal point, a number is spelled in scientific notation:
# writing 1e999999999 out in full would take a gigabyte.
_PLAIN_EXPONENT = 64


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0); iterative,
    so that no depth can exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def deeper_than(value: Any, limit: int) -> bool:
    """``depth(value) > limit``, a level at a time over the containers only (the strings and
    numbers of a body are most of its values), stopping at the first level too deep. For the
    plain dicts and lists :func:`loads` makes."""
    level = [value] if type(value) is dict or type(value) is list else []
    deepest = 0
    while level:
        deepest += 1
        if deepest > limit:
            return True
        below = []
        for container in level:
            for child in (container.values() if type(container) is dict else container):
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    return False


# Text no database keeps: NUL (PostgreSQL refuses it in text) and a lone UTF-16 surrogate
# (JSON may spell one, "\\ud800", but it is no character: it cannot be written as UTF-8).
_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be kept as text, or None: it holds NUL or a lone surrogate."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return f"holds the NUL character (U+0000) at position {found.start()}; text may not contain it"
    return (f"holds a lone surrogate (U+{ord(char):04X}) at position {found.start()}, which is no character; "
            "send text as valid Unicode")


def escaped(text: str) -> str:
    """``text`` with NUL and lone surrogates spelt as JSON escapes (``\\u0000``), so that a
    message can quote it."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def unstorable_text(value: Any) -> tuple[tuple[str | int, ...], str] | None:
    """(where, why) of the first string in a parsed JSON value (object keys included) that
    :func:`text_problem` refuses, or None; iterative, like :func:`depth`."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        current, path = stack.pop()
        if isinstance(current, str):
            problem = text_problem(current)
            if problem is not None:
                return path, problem
        elif isinstance(current, dict):
            for key in current:
                problem = text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    return path, f"the attribute name '{escaped(key)}' {problem}"
            stack.extend((child, (*path, key)) for key, child in reversed(list(current.items())))
        elif isinstance(current, list):
            stack.extend((child, (*path, index)) for index, child in reversed(list(enumerate(current))))
    return None


def normalized_number(value: int | Decimal) -> str:
    """One spelling per number, so 5, 5.0 and 5.00 index and filter alike.

    Exact whatever the size: trailing zeros are stripped from the digits themselves
    (``Decimal.normalize`` would round to the context's precision and overflow its exponent
    range). Raises ValueError for NaN and infinities."""
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value}")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        return "0"
    while digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    stripped = Decimal((sign, digits, exponent))
    if abs(exponent) <= _PLAIN_EXPONENT and abs(stripped.adjusted()) <= _PLAIN_EXPONENT:
        return format(stripped, "f")
    return str(stripped)
