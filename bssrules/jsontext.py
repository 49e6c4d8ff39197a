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


def normalized_number(value: int | Decimal) -> str:
    """One spelling per number, so 5, 5.0 and 5.00 index and filter alike."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text
