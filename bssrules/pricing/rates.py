"""What a rate charges for a volume: flat, graduated tiers or volume tiers, exactly.

Graduated: each unit costs the price of the tier it falls in (the first ``upTo`` units at
the first price, the next at the second …). Volume: every unit costs the price of the tier
the whole volume falls in; a volume equal to a tier's ``upTo`` falls in that tier. The
charge is rounded half-up to the currency's minor unit once, per record.

Tiers that count a period total (``tiersCount: {accumulator: …}``, graduated only) price a
record's volume on top of the total before it, its ``position``: the record costs
``cost(position + volume) - cost(position)`` before rounding, so that a record spanning a
tier's bound is split at it exactly (:func:`tier_split` says how).
"""
from __future__ import annotations

from decimal import Decimal

from bssrules.money import Money
from bssrules.rules.model import Rate


def exact_charge(rate: Rate, volume: Decimal, position: Decimal = Decimal(0)) -> Decimal:
    """The charge before rounding of ``volume`` priced from ``position`` (0: from the first tier)."""
    if volume <= 0:
        return Decimal(0)
    if position > 0 and rate.tiers:
        return _cost(rate, position + volume) - _cost(rate, position)
    return _cost(rate, volume)


def _cost(rate: Rate, volume: Decimal) -> Decimal:
    """The charge before rounding of ``volume`` from the first tier."""
    if volume <= 0:
        return Decimal(0)
    if rate.amount is not None:
        return rate.amount * volume
    if rate.tier_mode == "volume":
        for tier in rate.tiers:
            if tier.up_to is None or volume <= tier.up_to:
                return tier.amount * volume
    total, lower = Decimal(0), Decimal(0)
    for tier in rate.tiers:
        upper = tier.up_to if tier.up_to is not None else volume
        if volume > lower:
            total += tier.amount * (min(volume, upper) - lower)
        lower = upper
        if volume <= lower:
            break
    return total


def tier_split(rate: Rate, volume: Decimal, position: Decimal = Decimal(0)) -> list[tuple[int, Decimal]]:
    """(tier index, units) of each graduated tier ``volume`` priced from ``position`` falls in,
    in order: 0.3 GB from 0.8 GB over tiers up to 1 GB, then beyond, is [(0, 0.2), (1, 0.1)]."""
    parts: list[tuple[int, Decimal]] = []
    lower, end = Decimal(0), position + volume
    for index, tier in enumerate(rate.tiers):
        upper = tier.up_to if tier.up_to is not None else end
        inside = min(end, upper) - max(position, lower)
        if inside > 0:
            parts.append((index, inside))
        lower = upper
        if end <= lower:
            break
    return parts


def charge(rate: Rate, volume: Decimal, position: Decimal = Decimal(0)) -> Decimal:
    """The charge for ``volume`` at ``rate`` priced from ``position``, rounded half-up to the
    currency's minor unit."""
    return Money(exact_charge(rate, volume, position), rate.currency).rounded().amount
