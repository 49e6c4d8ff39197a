"""Caps: ``block`` thresholds with ``crossing: rateUpToCap``, and the part of a record up to them.

A record that would take an accumulator past such a threshold (not reached yet) is rated
only for the part up to it (:mod:`bssrules.pricing.rating`, steps 3 and 5):

- :func:`cap_of`: of the capped thresholds the record would pass, the smallest headroom
  below them (``at`` less the total; none when the total is there already) and its
  thresholds — of the volume accumulators counting the record (its volume in the rule's
  unit), or of the amount ones (its charge);
- :func:`down_in`: a volume headroom in the record's unit, rounded down to :data:`PLACES`
  decimals where it does not come out exact, so that the part never passes its cap;
- :func:`affordable`: the largest part of a volume whose charge before rounding fits the
  money headroom (rounded down to the minor unit), in whole millionths of the larger of the
  record's and the rate's units (a µs of a call in seconds rated per second, 60 µs when it is
  rated per minute, a kB of a session in GB rated per MB) so that it is exact in both;
  its charge, rounded half-up as every charge, then never passes the headroom — and meets it
  but for less than one step's price. Tiers that count a period total are walked from the
  total before the record (the bounds it meets are shifted by it).

Exact: fractions, never floats; the bulk path (:mod:`bssrules.pricing.bulk_kernels`) gives the
same parts in integers.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from math import floor
from typing import Mapping

from bssrules.pricing.rates import exact_charge
from bssrules.pricing.units import convert
from bssrules.pricing.usage import AccumulatorKey, AccumulatorTotal
from bssrules.rules.model import Accumulator, Rate, Threshold

PLACES = 12  # a volume cap's part is rounded down to 12 decimals where not exact (as fine as units.convert)
STEP_PLACES = 6  # an amount cap's part is a whole number of millionths of the larger unit


@dataclass(frozen=True)
class Cap:
    """What ``rateUpToCap`` thresholds a record crosses cut it to: the smallest headroom
    below them, the thresholds of that headroom (accumulator key, threshold id), and the
    reason of the first of them, given for the part refused."""

    headroom: Decimal
    binding: tuple[tuple[str, str], ...]
    reason: dict[str, str]


def cap_of(counting: list[tuple[Accumulator, AccumulatorKey]], totals: Mapping[AccumulatorKey, AccumulatorTotal],
           measure: str, adds: Decimal) -> Cap | None:
    """The cap of the ``rateUpToCap`` thresholds, not reached yet, of the accumulators of
    ``measure`` counting the record that ``adds`` would take past ``at`` (their headroom:
    ``at`` less the total, none when the total is there already); None when none would."""
    crossed: list[tuple[Decimal, str, Threshold]] = []
    for accumulator, key in counting:
        if accumulator.measure != measure:
            continue
        total = totals.get(key, AccumulatorTotal())
        value = total.volume if measure == "volume" else total.amount
        for threshold in accumulator.thresholds:
            if threshold.caps and threshold.id not in total.reached:
                room = max(threshold.at - value, Decimal(0))  # none when a new version put at below the total
                if adds > room:
                    crossed.append((room, key.accumulator, threshold))
    if not crossed:
        return None
    headroom = min(h for h, _, _ in crossed)
    binding = [(name, threshold) for h, name, threshold in crossed if h == headroom]
    name, first = binding[0]
    assert first.reason is not None  # a block threshold has one (model.Threshold)
    return Cap(headroom, tuple((n, t.id) for n, t in binding),
               {"code": first.reason.code, "label": first.reason.label, "threshold": f"{name}/{first.id}"})


def _ratio(unit: str, to: str) -> Fraction | None:
    """How many ``to`` one ``unit`` is, exactly (1/60 from seconds to minutes); None across kinds."""
    there = convert(Decimal(1), unit, to)
    if there is None:
        return None
    if there == there.to_integral_value():
        return Fraction(there)
    back = convert(Decimal(1), to, unit)  # to a larger unit: the factor back is whole
    assert back is not None
    return 1 / Fraction(back)


def _decimal(value: Fraction) -> Decimal:
    """A fraction with at most :data:`PLACES` decimals as a decimal, without trailing zeros."""
    steps = value * 10**PLACES
    assert steps.denominator == 1
    exact = Decimal(steps.numerator).scaleb(-PLACES).normalize()
    return exact.quantize(Decimal(1)) if exact == exact.to_integral_value() else exact


def down_in(volume: Decimal, unit: str, to: str) -> Decimal:
    """``volume`` (in ``unit``) in ``to``, rounded down to :data:`PLACES` decimals where it
    does not come out exact in them, so that the part never passes its cap; as it is when the
    units differ in kind (an accumulator then counts the record as it is)."""
    ratio = _ratio(unit, to)
    if ratio is None:
        return volume
    return _decimal(Fraction(floor(Fraction(volume) * ratio * 10**PLACES), 10**PLACES))


def _cost(rate: Rate, volume: Fraction, position: Decimal) -> Fraction:
    """The charge before rounding (:func:`exact_charge`) of a volume that is a terminating
    decimal, priced from ``position``, with no digit lost."""
    with localcontext() as context:
        context.prec = 80
        return Fraction(exact_charge(rate, Decimal(volume.numerator) / volume.denominator, position))


def affordable(rate: Rate, unit: str, left: Decimal, budget: Decimal, position: Decimal = Decimal(0)) -> Decimal:
    """The largest part of ``left`` (in ``unit``) whose charge at ``rate`` before rounding is
    at most ``budget``: a whole number of 10**-6 of the larger of ``unit`` and the rate's unit,
    so that it is exact in both (60 µs of a record in seconds when the rate is per minute).
    ``position`` (in the rate's unit) is where the tiers start counting: the period total
    before the part, for tiers that count one (the bounds the part meets are shifted by it).

    The charge is linear between the bounds of the tiers, so the answer is looked for piece by
    piece, from the largest volume down (volume tiers make it fall at a bound)."""
    ratio = _ratio(unit, rate.per)
    assert ratio is not None  # the unit converts to the rate's (checked before rating)
    step = Fraction(1, 10**STEP_PLACES) * max(Fraction(1), 1 / ratio)
    step_per = step * ratio
    budget_exact = Fraction(budget)
    top = floor(Fraction(left) / step) * step_per
    start = Fraction(position)
    bounds = sorted({Fraction(t.up_to) - start for t in rate.tiers
                     if t.up_to is not None and 0 < Fraction(t.up_to) - start < top})
    points = [Fraction(0), *bounds, top]
    for low, high in reversed(list(zip(points, points[1:]))):
        cost = _cost(rate, high, position)
        if cost <= budget_exact:
            best = high
        else:
            middle = (low + high) / 2
            slope = (cost - _cost(rate, middle, position)) / (high - middle)
            if slope <= 0:
                continue
            best = high - (cost - budget_exact) / slope
        steps = floor(best / step_per)
        if steps * step_per > low and _cost(rate, steps * step_per, position) <= budget_exact:
            return _decimal(steps * step)
    return Decimal(0)


__all__ = ["Cap", "cap_of", "down_in", "affordable", "PLACES", "STEP_PLACES"]
