"""Units of usage volume, and conversion between units of one kind.

Data units are decimal (1 GB = 1000 MB, as operators bill them), so data converts exactly;
time units are seconds, minutes and hours, and a conversion to a larger time unit that does
not come out exact (100 s = 1.666… min) is rounded half-even to 12 decimals. Any other unit
(event, movie, message …) converts only to itself.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

PLACES = Decimal("1e-12")

_KINDS: tuple[dict[str, int], ...] = (
    {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12},
    {"s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60, "minutes": 60,
     "h": 3600, "hour": 3600, "hours": 3600},
)
MEASURED_UNITS = frozenset(unit for kind in _KINDS for unit in kind)  # the units that convert


def convert(volume: Decimal, unit: str, to: str) -> Decimal | None:
    """``volume`` in ``unit`` expressed in ``to`` (exactly), or None when they differ in kind."""
    if unit == to:
        return volume
    for kind in _KINDS:
        if unit in kind and to in kind:
            exact = Fraction(volume) * kind[unit] / kind[to]
            denominator = exact.denominator
            for prime in (2, 5):
                while denominator % prime == 0:
                    denominator //= prime
            if denominator == 1:  # a terminating decimal: exact
                return volume * kind[unit] / kind[to]
            return (Decimal(exact.numerator) / exact.denominator).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    return None
