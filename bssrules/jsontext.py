"""JSON text with exact decimals: amounts are written and read as their decimal digits."""
from __future__ import annotations

import datetime as dt
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


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Serialize with Decimals as exact JSON numbers."""
    return simplejson.dumps(value, use_decimal=True, default=_default, indent=indent, sort_keys=sort_keys,
                            ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    """Parse, reading every non-integer number as a Decimal."""
    return simplejson.loads(text, use_decimal=True)


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
