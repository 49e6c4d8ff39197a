"""What a rate charges for a volume: flat, graduated tiers or volume tiers, exactly.

Graduated: each unit costs the price of the tier it falls in (the first ``upTo`` units at
the first price, the next at the second …). Volume: every unit costs the price of the tier
the whole volume falls in; a volume equal to a tier's ``upTo`` falls in that tier. The
charge is rounded half-up to the currency's minor unit once, per record.
"""
from __future__ import annotations

from decimal import Decimal

from bssrules.money import Money
from bssrules.rules.model import Rate


def exact_charge(rate: Rate, volume: Decimal) -> Decimal:
    """The charge before rounding."""
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


def charge(rate: Rate, volume: Decimal) -> Decimal:
    """The charge for ``volume`` at ``rate``, rounded half-up to the currency's minor unit."""
    return Money(exact_charge(rate, volume), rate.currency).rounded().amount
