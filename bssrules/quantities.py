"""The one written form of the numbers the usage APIs answer with (TMF635, TMF654, TMF677,
the running totals and the aggregated usage).

- A **quantity** (a volume, units taken from a bucket, what a unit bucket holds, a count) is
  written as its exact value with no trailing zeros and no exponent: ``1500``, ``0.3``,
  ``100``, ``0``, ``0.0000001`` — whatever scale rating, a conversion or the store gave it
  (``1500.0``, ``0.300000``, ``0E-6`` are the same numbers).
- **Money** (an amount in a currency: a unit that is an ISO 4217 code) is written at the
  currency's minor-unit scale (``12.50`` EUR, ``500`` JPY), with more decimals only when the
  value has them (a rate of ``0.0125`` EUR per unit keeps them): never rounded here.

:func:`quantity` and :func:`money` give Decimals that ``jsontext.dumps`` (and ``str``)
write in that form; :func:`measure` picks one by the unit. Values that are not numbers
(None, text) are handed back unchanged, for the renderers of stored documents.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bssrules.jsontext import normalized_number
from bssrules.money import ISO_4217, minor_unit_exponent

class PlainDecimal(Decimal):
    """A Decimal whose text never has an exponent (``str(Decimal('1E-7'))`` is ``1E-7``;
    this one's is ``0.0000001``). Arithmetic on it gives plain Decimals."""

    __slots__ = ()

    def __str__(self) -> str:
        return format(self, "f")

    def __repr__(self) -> str:
        return f"PlainDecimal('{self}')"


def _written(text: str) -> Decimal:
    """The Decimal that ``str`` (and so jsontext) writes as ``text``."""
    number = Decimal(text)
    return number if str(number) == text else PlainDecimal(text)


def _finite(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number if number.is_finite() else None


def quantity(value: Any) -> Any:
    """A volume or count in its one written form, :func:`jsontext.normalized_number`'s
    (``Decimal('1500.0')`` -> ``1500``, ``Decimal('0.200000')`` -> ``0.2``, ``0E-6`` and
    ``-0`` -> ``0``). Not a finite number (None, text, a bool): handed back as it is."""
    if type(value) is Decimal:  # already in its form (the common case, online): as it is
        text = str(value)
        if "E" not in text and text != "-0" and ("." not in text or text[-1] != "0"):
            return value
    number = _finite(value)
    return value if number is None else _written(normalized_number(number))


def money(value: Any, currency: str | None) -> Any:
    """An amount in ``currency`` at its minor-unit scale (``Decimal('12.5')`` EUR ->
    ``12.50``, ``Decimal('0.300000')`` EUR -> ``0.30``), more decimals only when the value
    has them (exact, never rounded). An unknown currency: as :func:`quantity`."""
    number = _finite(value)
    if number is None:
        return value
    text = normalized_number(number)
    if currency not in ISO_4217 or "E" in text:
        return _written(text)
    decimals = len(text.partition(".")[2])
    scale = minor_unit_exponent(currency)
    if decimals < scale:
        text += ("" if decimals else ".") + "0" * (scale - decimals)
    return _written(text)


def plain(value: Any) -> Any:
    """``value`` with its digits as they are (``0.30`` stays ``0.30``) but no exponent
    (``1E-7`` -> ``0.0000001``): for a stored number whose kind is not known."""
    number = _finite(value)
    if number is None or type(value) is int:
        return value
    text = str(number)
    return _written(normalized_number(number)) if "E" in text else number


def measure(value: Any, unit: Any) -> Any:
    """A bucket's or a counter's amount in ``unit``: money when the unit is a currency, else
    a quantity."""
    return money(value, unit) if isinstance(unit, str) and unit in ISO_4217 else quantity(value)


VOLUME_DECIMALS = 12  # a volume's finest step, online as in bulk rating (its Parquet column's scale)


def decimals_of(value: Decimal) -> int:
    """How many decimals a finite value has, trailing zeros left out — by its digits, not by
    the decimal context (whose 28 digits would round a long value before counting)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # (finite)
    if not any(digits):
        return 0
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + zeros))


# a number written as text: ASCII digits, a point, an exponent (JSON's number, a sign or a bare
# point allowed) — not what Python's Decimal reads besides ("1_000", other scripts' digits,
# "NaN", "Infinity"), which a mediation bug could send and have charged
_NUMBER_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def number_text(text: str) -> Decimal | None:
    """The exact number a text writes (surrounding spaces ignored), None when it writes none."""
    stripped = text.strip(" \t\r\n")
    return Decimal(stripped) if _NUMBER_TEXT.fullmatch(stripped) else None
