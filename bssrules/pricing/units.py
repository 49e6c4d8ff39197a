"""Units of usage volume, and conversion between units of one kind.

Data units are decimal (1 GB = 1000 MB, as operators bill them), so data converts exactly;
time units are seconds, minutes and hours. A converted volume has at most 12 decimals: one
that does not come out exact (100 s = 1.666… min) or needs more (0.5 B = 0.0000000000005 TB)
is rounded half-even to 12. Any other unit
(event, movie, message …) converts only to itself.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

PLACES = Decimal("1e-12")
_SCALE = 10**12

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
            if (exact * _SCALE).denominator == 1:  # at most 12 decimals: exact
                return volume * kind[unit] / kind[to]
            # a fraction that does not terminate (100 s in minutes), or one that needs more than 12
            # decimals (0.5 B in TB, a 12-decimal minute in hours): rating keeps 12, as bulk rating
            # does, so that every volume, debit and total rating hands back holds in 12 decimals
            return (Decimal(exact.numerator) / exact.denominator).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    return None
