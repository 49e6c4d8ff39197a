"""The numba-compiled kernels of bulk rating: exact int64 arithmetic, prices, caps, the scan.

- :func:`_mul`, :func:`_add`, :func:`_round_half_up`, :func:`_half_even`, :func:`_convert`,
  :func:`_in_rate_units`: int64 arithmetic checked for overflow, rounded as ``Decimal`` and
  :func:`bssrules.pricing.units.convert` round (small: inlined into the loops);
- :func:`_cost`, :func:`_charge`, :func:`_charge_from`, :func:`_price_all`: the charge of a
  volume at a rate (flat, graduated or volume tiers) in the currency's minor units, as
  :func:`bssrules.pricing.rates.charge` — from the first tier, or from a position for tiers
  that count a period total (:func:`_tier_position`: the accumulator's total before the record
  and what buckets served of it);
- :func:`_cap`, :func:`_cut_to`, :func:`_down_to`, :func:`_affordable`: the caps of ``block``
  thresholds with ``crossing: rateUpToCap`` (:mod:`bssrules.pricing.caps` in integers): the
  smallest headroom below the capped thresholds a record would pass, the thresholds a cut
  reaches, a volume headroom in the record's unit, the largest part whose charge fits;
- :func:`_scan`: the stateful part of rating, record by record in rating order
  (``rating._rate_one`` from step 2 on): thresholds, caps, unit and money buckets, the payer
  check, accumulator totals and threshold events.

Each gives ``ok = False`` where the exact answer leaves the integers (a level with more
decimals than the scan's, a product beyond int64, a rate whose tiers a cap cannot walk, a
period total finer than the tiers' bounds) or needs what the scan does not hold (the total of
an accumulator that does not count the record, for tiers over a period): the scan then leaves
the subscriber to the reference.

The kernels called once per record with arrays (:func:`_charge`, :func:`_charge_from`,
:func:`_cap`, :func:`_affordable`, :func:`_tier_position`) allocate nothing and are compiled
without numba's reference counting (``_nrt=False``): with it, every call — and every
function inlined into a loop — increments and decrements the count of each array it is
given, an atomic operation each, and these made most of their time (:func:`_price_all` on
200,000 records: 20 ms with them, 5 ms without; the scan 15 ms, 10 ms). A kernel that
allocates (:func:`_grow`, the loops' results) keeps it — and then counts again at every call
it makes in its loop: :func:`_price_all` allocates its results and hands them to
:func:`_price_into`, compiled without it, which runs the loop (22-23 ms -> 8-12 ms).

In a module of their own because they follow numba's rules, not Python's: numbers and numpy
arrays in, tuples of arrays out, no polars, no objects, module constants frozen in at
compilation. In ONE module because numba's on-disk cache of a function is invalidated by a
change to its own file only: a kernel calling a function of another file would keep the old
one compiled in. The codes they share with the tables (rate kinds, threshold actions) and with
the assembly of the rated frame (what became of each record) are defined here. Compiled on
first use and cached on disk (``cache=True``); called through :func:`_compiled`.
"""
from __future__ import annotations

from typing import Any, Callable, ParamSpec, TypeVar

import numpy as np
from numba import njit
from numpy.typing import NDArray

from bssrules.pricing.bulk_frames import _MAX, _POW10, SCAN_DIGITS

_CONVERT_DIGITS = 12  # units.convert rounds a conversion that does not come out exact to 12 decimals
_PLACES = 12  # caps.PLACES: a volume cap's part is rounded down to 12 decimals where it is not exact
_STEP_PLACES = 6  # caps.STEP_PLACES: an amount cap's part is a whole number of millionths
# the codes of the tables they read (bssrules.pricing.bulk_tables): rate kinds, threshold actions
_FLAT, _GRADUATED, _VOLUME_TIERS = 0, 1, 2
_NOTIFY, _BLOCK, _CHANGE_RATE = 0, 1, 2

# the arrays they take and give (numba compiles a version per dtype: these are the ones passed)
_I64 = NDArray[np.int64]
_I32 = NDArray[np.int32]
_I8 = NDArray[np.int8]
_Mask = NDArray[np.bool_]
# what _scan gives back: per record its status, final rate, blocking (or cutting) threshold,
# rated volume and its decimals, amount, prepaid part and refused volume; then the bucket takes
# (record, bucket, quantity) and the threshold events (record, slot, threshold, value)
_ScanResult = tuple[_I8, _I32, _I64, _I64, _I8, _I64, _I64, _I64, _I64, _I64, _I64, _I64, _I64, _I64, _I64]
_P = ParamSpec("_P")
_R = TypeVar("_R")

def _without_reference_counts(kernel: Callable[_P, _R]) -> Callable[_P, _R]:
    """``njit(cache=True)`` without numba's reference counting (``_nrt=False``, an option
    numba's type stubs do not list): for kernels that allocate nothing (see the docstring)."""
    options: dict[str, Any] = {"cache": True, "_nrt": False}
    compiled: Callable[_P, _R] = njit(**options)(kernel)
    return compiled


_RATED, _BLOCKED, _INSUFFICIENT, _UNASSIGNED, _MISMATCH, _TOO_LARGE, _NOT_SCANNED = 0, 1, 2, 3, 4, 5, -1  # the scan
_NO_RATE, _MALFORMED, _UNKNOWN = 6, 7, 8  # and what became of the records it did not see

_SAFE_FACTOR = 3_037_000_499  # floor(sqrt(2**63 - 1)): two factors up to it never overflow


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _mul(a: int, b: int) -> tuple[int, bool]:
    """``a * b``, and whether it fits int64 (a division only for large factors)."""
    if -_SAFE_FACTOR <= a <= _SAFE_FACTOR and -_SAFE_FACTOR <= b <= _SAFE_FACTOR:
        return a * b, True
    if a == 0 or b == 0:
        return 0, True
    if abs(a) > _MAX // abs(b):
        return 0, False
    return a * b, True


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _add(a: int, b: int) -> tuple[int, bool]:
    if (b > 0 and a > _MAX - b) or (b < 0 and a < -_MAX - b):
        return 0, False
    return a + b, True


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _round_half_up(total: int, digits: int) -> int:
    """``total / 10**digits`` rounded half away from zero (Decimal's ROUND_HALF_UP)."""
    divisor: int = _POW10[digits]
    magnitude = abs(total)
    quotient = magnitude // divisor
    if 2 * (magnitude - quotient * divisor) >= divisor:
        quotient += 1
    return -quotient if total < 0 else quotient


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _half_even(numerator: int, divisor: int) -> int:
    """``numerator / divisor`` rounded half to even (numerator >= 0): units.convert's rounding."""
    quotient = numerator // divisor
    twice = 2 * (numerator - quotient * divisor)
    if twice > divisor or (twice == divisor and quotient % 2 == 1):
        quotient += 1
    return quotient


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _convert(value: int, numerator: int, denominator: int, digits: int) -> tuple[int, bool]:
    """``units.convert`` of a volume with ``digits`` decimals to another unit
    (``value * numerator / denominator``): exact, or — with 12 decimals, as convert rounds a
    result with more — rounded half to even; not ok when the result needs more decimals than
    ``digits`` and ``digits`` is less than 12 (the caller converts at 12)."""
    if numerator == denominator:
        return value, True
    product, ok = _mul(value, numerator)
    if not ok:
        return 0, False
    if product % denominator == 0:
        return product // denominator, True
    if digits < _CONVERT_DIGITS:
        return 0, False  # convert gives more decimals than these
    return _half_even(product, denominator), True


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _in_rate_units(value: int, numerator: int, denominator: int, digits: int) -> tuple[int, int, bool]:
    """``units.convert`` of a volume with ``digits`` decimals to the rate's unit: (value,
    decimals, ok) — with ``digits`` decimals when exact there, else with 12, rounded half to
    even as convert does."""
    converted, ok = _convert(value, numerator, denominator, digits)
    if ok:
        return converted, digits, True
    finer, ok = _mul(value, _POW10[_CONVERT_DIGITS - digits])
    if not ok:
        return 0, _CONVERT_DIGITS, False
    converted, ok = _convert(finer, numerator, denominator, _CONVERT_DIGITS)
    return converted, _CONVERT_DIGITS, ok


@njit(cache=True, inline="always")
def _cost(rate: int, vol: int, scale: int, r_kind: _I8, r_volume_digits: _I64, r_flat: _I64, r_tier_ptr: _I64,
          tier_up: _I64, tier_amount: _I64) -> tuple[int, bool]:
    """The charge before rounding of ``vol`` (``scale`` decimals, at least the tiers') from the
    first tier, with the price's decimals and ``scale``: ``rates._cost`` step by step (volume
    tiers beyond the last bound fall through to graduated, as there)."""
    if vol <= 0:
        return 0, True
    tier_scale = _POW10[scale - r_volume_digits[rate]]
    total = 0
    if r_kind[rate] == _FLAT:
        return _mul(r_flat[rate], vol)
    if r_kind[rate] == _VOLUME_TIERS:
        for j in range(r_tier_ptr[rate], r_tier_ptr[rate + 1]):
            up, ok = _mul(tier_up[j], tier_scale)
            if not ok:
                return 0, False
            if tier_up[j] < 0 or vol <= up:
                return _mul(tier_amount[j], vol)
    lower = 0
    for j in range(r_tier_ptr[rate], r_tier_ptr[rate + 1]):
        upper, ok = _mul(tier_up[j], tier_scale)
        if not ok:
            return 0, False
        if tier_up[j] < 0:
            upper = vol
        if vol > lower:
            part, ok = _mul(tier_amount[j], min(vol, upper) - lower)
            if not ok:
                return 0, False
            total, ok = _add(total, part)
            if not ok:
                return 0, False
        lower = upper
        if vol <= lower:
            break
    return total, True


@_without_reference_counts
def _charge(rate: int, volume: int, digits: int, r_kind: _I8, r_price_digits: _I64, r_volume_digits: _I64,
            r_minor: _I64, r_flat: _I64, r_tier_ptr: _I64, tier_up: _I64, tier_amount: _I64) -> tuple[int, bool]:
    """The charge of ``volume`` (with ``digits`` decimals) at ``rate``, in minor units:
    ``rates.charge``."""
    if volume <= 0:
        return 0, True
    scale = max(digits, r_volume_digits[rate])
    if r_price_digits[rate] + scale - r_minor[rate] > 18:
        return 0, False
    vol, ok = _mul(volume, _POW10[scale - digits])
    if not ok:
        return 0, False
    total, ok = _cost(rate, vol, scale, r_kind, r_volume_digits, r_flat, r_tier_ptr, tier_up, tier_amount)
    if not ok:
        return 0, False
    return _round_half_up(total, r_price_digits[rate] + scale - r_minor[rate]), True


@_without_reference_counts
def _charge_from(rate: int, position: int, position_digits: int, volume: int, digits: int, r_kind: _I8,
                 r_price_digits: _I64, r_volume_digits: _I64, r_minor: _I64, r_flat: _I64, r_tier_ptr: _I64,
                 tier_up: _I64, tier_amount: _I64) -> tuple[int, bool]:
    """The charge of ``volume`` (``digits`` decimals) at ``rate`` priced from ``position``
    (``position_digits`` decimals; 0 from the first tier), in minor units: ``rates.charge`` —
    ``cost(position + volume) - cost(position)`` rounded half-up once, for tiers that count a
    period total."""
    if position <= 0 or r_kind[rate] == _FLAT:
        return _charge(rate, volume, digits, r_kind, r_price_digits, r_volume_digits, r_minor, r_flat, r_tier_ptr,
                       tier_up, tier_amount)
    if volume <= 0:
        return 0, True
    scale = max(digits, r_volume_digits[rate], position_digits)
    if r_price_digits[rate] + scale - r_minor[rate] > 18:
        return 0, False
    vol, ok = _mul(volume, _POW10[scale - digits])
    start, fits = _mul(position, _POW10[scale - position_digits])
    if not ok or not fits:
        return 0, False
    end, ok = _add(start, vol)
    if not ok:
        return 0, False
    upto_end, ok = _cost(rate, end, scale, r_kind, r_volume_digits, r_flat, r_tier_ptr, tier_up, tier_amount)
    upto_start, fits = _cost(rate, start, scale, r_kind, r_volume_digits, r_flat, r_tier_ptr, tier_up, tier_amount)
    if not ok or not fits:
        return 0, False
    total = upto_end - upto_start
    return _round_half_up(total, r_price_digits[rate] + scale - r_minor[rate]), True


@njit(cache=True, nogil=True)  # run beside the thread that finishes the chunk before
def _price_all(active: _Mask, rate: _I32, volume: _I64, digits: int, unit: _I32, r_ok: _Mask, r_per: _I32,
               conv_num: _I64, conv_den: _I64, r_kind: _I8, r_price_digits: _I64, r_volume_digits: _I64,
               r_minor: _I64, r_flat: _I64, r_tier_ptr: _I64, tier_up: _I64, tier_amount: _I64) -> tuple[_I64, _Mask]:
    """The charge of every active record's whole volume at its rule's rate (minor units)."""
    n = active.shape[0]
    amount = np.zeros(n, np.int64)
    fits = np.ones(n, np.bool_)
    # the loop in a kernel without reference counting: in this one, which allocates, each
    # call of _charge counted the references of the eight arrays it is given (200,000
    # records: 22-23 ms, 7 ms without)
    _price_into(amount, fits, active, rate, volume, digits, unit, r_ok, r_per, conv_num, conv_den, r_kind,
                r_price_digits, r_volume_digits, r_minor, r_flat, r_tier_ptr, tier_up, tier_amount)
    return amount, fits


@_without_reference_counts
def _price_into(amount: _I64, fits: _Mask, active: _Mask, rate: _I32, volume: _I64, digits: int, unit: _I32,
                r_ok: _Mask, r_per: _I32, conv_num: _I64, conv_den: _I64, r_kind: _I8, r_price_digits: _I64,
                r_volume_digits: _I64, r_minor: _I64, r_flat: _I64, r_tier_ptr: _I64, tier_up: _I64,
                tier_amount: _I64) -> int:
    """:func:`_price_all`'s loop: ``amount`` and ``fits`` (zeros and ones) filled in place."""
    for i in range(active.shape[0]):
        if not active[i]:
            continue
        r = rate[i]
        u = unit[i] if unit[i] >= 0 else r_per[r]
        if conv_num[u, r_per[r]] == 0:
            continue  # unitMismatch: no charge
        value, value_digits, ok = _in_rate_units(volume[i], conv_num[u, r_per[r]], conv_den[u, r_per[r]], digits)
        if not ok or not r_ok[r]:
            fits[i] = False
            continue
        amount[i], fits[i] = _charge(r, value, value_digits, r_kind, r_price_digits, r_volume_digits, r_minor, r_flat,
                                     r_tier_ptr, tier_up, tier_amount)
    return 0


# ---------------------------------------------------------------- caps (rateUpToCap)


@_without_reference_counts
def _cap(i: int, measure: int, adds: int, totals: _I64, acc_ptr: _I64, acc_def: _I64, acc_slot: _I64,
         def_measure: _I8, def_capped: _Mask, def_ptr: _I64, t_column: _I64, t_level: _I64, t_exact: _Mask,
         t_capped: _Mask, s_rank: _I64) -> tuple[int, int, bool]:
    """(headroom, threshold, ok): the smallest headroom (``max(at - total, 0)``, at the scale of
    ``totals``) below the capped thresholds not reached yet of the accumulators of ``measure``
    (0 volume, 1 amount) counting record ``i`` that ``adds`` would pass, and the first
    threshold of it; (-1, -1, True) when it passes none."""
    headroom, by = -1, -1
    for k in range(acc_ptr[i], acc_ptr[i + 1]):
        d = acc_def[k]
        if def_measure[d] != measure or not def_capped[d]:
            continue
        slot = acc_slot[k]
        total = totals[slot]
        for t in range(def_ptr[d], def_ptr[d + 1]):
            if not t_capped[t] or s_rank[slot, t_column[t]] >= 0:
                continue
            if not t_exact[t]:  # at has more decimals than the scan: the level is at rounded up
                passes = adds > 0 if total >= t_level[t] else adds >= t_level[t] - total
                if passes:
                    return -1, -1, False  # only the reference knows by how much
                continue
            room, ok = _add(t_level[t], -total)
            if not ok:
                return -1, -1, False
            room = max(room, 0)
            if adds > room and (headroom < 0 or room < headroom):
                headroom, by = room, t
    return headroom, by, True


@njit(cache=True, inline="always")  # small: inlined into the scan
def _cut_to(t: int, d: int, measure: int, headroom: int, before: int, def_measure: _I8, t_capped: _Mask,
            t_exact: _Mask, t_level: _I64) -> bool:
    """Whether threshold ``t`` (of accumulator definition ``d``, whose total was ``before``) is
    one the record was cut to: a capped threshold of the cut's ``measure`` (-1: no cut) whose
    headroom was the cut's — reached, whatever the total comes to."""
    if measure < 0 or def_measure[d] != measure or not t_capped[t] or not t_exact[t]:
        return False
    room: int = max(t_level[t] - before, 0)
    return room == headroom


@njit(cache=True, inline="always")  # small: inlined into the scan
def _down_to(value: int, numerator: int, denominator: int, digits: int) -> tuple[int, bool]:
    """``value * numerator / denominator`` (``digits`` decimals), exact, or rounded down when
    the chunk's volumes have 12 decimals; not ok when it needs more than ``digits``."""
    product, ok = _mul(value, numerator)
    if not ok:
        return 0, False
    if product % denominator == 0:
        return product // denominator, True
    if digits < _PLACES:
        return 0, False
    return product // denominator, True


@_without_reference_counts
def _affordable(rate: int, u: int, left: int, digits: int, budget: int, position: int, position_digits: int,
                conv_num: _I64, conv_den: _I64, r_per: _I32, r_kind: _I8, r_price_digits: _I64,
                r_volume_digits: _I64, r_minor: _I64, r_flat: _I64, r_tier_ptr: _I64, tier_up: _I64,
                tier_amount: _I64) -> tuple[int, bool]:
    """The largest part of ``left`` (unit ``u``, ``digits`` decimals, at least 6) whose charge at
    ``rate`` before rounding is at most ``budget`` minor units, with ``digits`` decimals: a whole
    number of millionths of the larger of ``u`` and the rate's unit (``caps.affordable``),
    priced from ``position`` (in the rate's unit, ``position_digits`` decimals): graduated tiers
    that count a period total are walked from it.

    Volumes in the rate's unit are worked at the decimals of its tiers' bounds (at least 6, so
    that a step is whole there), charges before rounding at those plus the price's."""
    per = r_per[rate]
    scale = r_volume_digits[rate]
    start = 0  # the position at scale: not ok when it has more decimals than the tiers' bounds
    if position > 0 and r_kind[rate] == _GRADUATED:
        if position_digits <= scale:
            start, ok = _mul(position, _POW10[scale - position_digits])
            if not ok:
                return 0, False
        elif position % _POW10[position_digits - scale] == 0:
            start = position // _POW10[position_digits - scale]
        else:
            return 0, False
    if conv_den[u, per] == 1:  # the rate's unit is u or a smaller one: steps of 10**-6 u
        step_u, step_per = _POW10[digits - _STEP_PLACES], conv_num[u, per] * _POW10[scale - _STEP_PLACES]
    else:  # a larger one (1 u is 1 / denominator of it): steps of 10**-6 of the rate's unit
        step_u, step_per = conv_den[u, per] * _POW10[digits - _STEP_PLACES], _POW10[scale - _STEP_PLACES]
    exponent = r_price_digits[rate] + scale - r_minor[rate]  # of a charge before rounding, in minor units
    if exponent > 18:
        return 0, False
    limit, bounded = _mul(budget, _POW10[exponent])  # not bounded: beyond every total that fits
    top, ok = _mul(left // step_u, step_per)  # the most whole steps of left, in the rate's unit
    if not ok:
        return 0, False
    best = 0  # in the rate's unit, at scale
    if r_kind[rate] == _FLAT:
        best, ok = _quotient(budget, exponent, r_flat[rate], top)
    else:
        first, last = r_tier_ptr[rate], r_tier_ptr[rate + 1]
        bounds = tier_up[first:last]  # at scale
        for j in range(last - first):  # bounded in increasing order, the last one unbounded
            if (bounds[j] < 0) != (j == last - first - 1) or (j > 0 and 0 <= bounds[j] <= bounds[j - 1]):
                return 0, False
        if r_kind[rate] == _GRADUATED:  # the charge grows piece by piece: the first piece it outgrows
            spent, low = 0, 0
            for j in range(last - first):
                if 0 <= bounds[j] <= start:
                    continue  # a tier the period total has passed already
                high = top if bounds[j] < 0 else min(bounds[j] - start, top)
                price = tier_amount[first + j]
                cost, ok = _mul(price, high - low)
                total, fits = _add(spent, cost)
                if not ok or not fits:
                    return 0, False
                if (not bounded or total <= limit) and high < top:
                    spent, low = total, high
                    continue
                best = high if not bounded or total <= limit else low + (limit - spent) // price
                break
        else:  # volume tiers: every unit at the price of the tier of the whole; from the top tier down
            for j in range(last - first - 1, -1, -1):
                low = 0 if j == 0 else bounds[j - 1]
                high = top if bounds[j] < 0 else min(bounds[j], top)
                if high <= low:
                    continue
                most, ok = _quotient(budget, exponent, tier_amount[first + j], high)
                if not ok:
                    return 0, False
                if most // step_per * step_per > low:
                    best = most
                    break
    if not ok:
        return 0, False
    return best // step_per * step_u, True  # whole steps, in u at digits


@njit(cache=True, inline="always")  # small: inlined into _affordable
def _quotient(value: int, exponent: int, divisor: int, most: int) -> tuple[int, bool]:
    """``min(floor(value * 10**exponent / divisor), most)`` (value >= 0, divisor >= 0; ``most``
    when the divisor is 0), by long division: the product need not fit int64."""
    if divisor == 0:
        return most, True
    if divisor > _MAX // 10:
        return 0, False
    quotient, rest = value // divisor, value % divisor
    for _ in range(exponent):
        if quotient > most:
            return most, True
        if quotient > _MAX // 10 - 1:
            return 0, False
        quotient, rest = quotient * 10 + rest * 10 // divisor, rest * 10 % divisor
    return min(quotient, most), True


# ---------------------------------------------------------------- the scan


@_without_reference_counts
def _tier_position(i: int, d: int, u: int, rule_unit: int, per: int, covered: int, digits: int, acc_ptr: _I64,
                   acc_def: _I64, acc_slot: _I64, s_volume: _I64, conv_num: _I64, conv_den: _I64
                   ) -> tuple[int, int, bool]:
    """(position, its decimals, ok): where the tiers of a rate counting the period total of
    accumulator definition ``d`` start for record ``i`` — that total before the record (in the
    rule's unit ``rule_unit``; as it is when it does not convert) and the ``covered`` part
    buckets served (in the record's unit ``u``), each in the rate's unit ``per`` as
    ``rating._tier_position`` converts them; not ok when ``d`` does not count the record (the
    scan has no slot for it) or a value leaves the integers."""
    slot = -1
    for k in range(acc_ptr[i], acc_ptr[i + 1]):
        if acc_def[k] == d:
            slot = acc_slot[k]
    if slot < 0:
        return 0, digits, False
    before, before_digits = s_volume[slot], digits
    if conv_num[rule_unit, per] != 0:
        before, before_digits, ok = _in_rate_units(s_volume[slot], conv_num[rule_unit, per],
                                                   conv_den[rule_unit, per], digits)
        if not ok:
            return 0, digits, False
    served, served_digits, ok = _in_rate_units(covered, conv_num[u, per], conv_den[u, per], digits)
    if not ok:
        return 0, digits, False
    places = max(before_digits, served_digits)
    before, ok = _mul(before, _POW10[places - before_digits])
    served, fits = _mul(served, _POW10[places - served_digits])
    if not ok or not fits:
        return 0, digits, False
    total, ok = _add(before, served)
    return total, places, ok


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _grow(array: _I64, needed: int) -> _I64:
    if needed <= array.shape[0]:
        return array
    bigger = np.empty(max(needed, 2 * array.shape[0]), array.dtype)
    bigger[:array.shape[0]] = array
    return bigger


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _serves(b: int, service: int, at: int, b_from: _I64, b_to: _I64, b_service_ptr: _I64, b_services: _I32) -> bool:
    if at < b_from[b] or at >= b_to[b]:
        return False
    if b_service_ptr[b] == b_service_ptr[b + 1]:
        return True
    for k in range(b_service_ptr[b], b_service_ptr[b + 1]):
        if b_services[k] == service:
            return True
    return False


@njit(cache=True, nogil=True)  # run beside the thread that finishes the chunk before
def _scan(
        # per record, in rating order: what it is and what the rules decided (fallback: per subscriber, set here)
        active: _Mask, sub: _I64, start: _I64, service: _I32, unit: _I32, volume: _I64, digits: int, rate0: _I32,
        amount0: _I64, amount0_fits: _Mask, acc_ptr: _I64, acc_def: _I64, acc_slot: _I64,
        unassigned: _Mask, amount_dependent: _Mask, currency_dependent: _Mask, fallback: _Mask,
        # the buckets (b_remaining updated in place)
        sub_bucket_ptr: _I64, sub_buckets: _I64, b_money: _Mask, b_unit: _I32, b_remaining: _I64, b_floor: _I64,
        b_has_floor: _Mask, b_from: _I64, b_to: _I64, b_service_ptr: _I64, b_services: _I32,
        # the accumulator totals (updated in place)
        s_volume: _I64, s_amount: _I64, s_rank: _I64, s_count: _I64,
        # the thresholds, and how units convert
        def_measure: _I8, def_capped: _Mask, def_ptr: _I64, t_column: _I64, t_level: _I64, t_exact: _Mask,
        t_action: _I8, t_capped: _Mask, t_rate: _I32, conv_num: _I64, conv_den: _I64,
        # the rates
        r_ok: _Mask, r_per: _I32, r_kind: _I8, r_price_digits: _I64, r_volume_digits: _I64, r_minor: _I64,
        r_flat: _I64, r_tier_ptr: _I64, tier_up: _I64, tier_amount: _I64, r_currency: _I32, r_max_amount: _I64,
        r_count_def: _I64,
) -> _ScanResult:
    """The stateful part of rating, record by record in rating order (``rating._rate_one``
    from step 2 on). Balances and totals are updated in place; a subscriber whose values
    leave the integers here is flagged in ``fallback`` and its results are not to be used.
    Volumes (records, unit buckets, volume totals) have ``digits`` decimals, money
    :data:`SCAN_DIGITS`; a threshold's ``t_level`` is its ``at`` at their scale, rounded up
    where not ``t_exact``. ``r_count_def`` is the accumulator definition whose period total a
    rate's tiers count on top of (-1: the record alone); a record that accumulator does not
    count leaves its subscriber to the reference."""
    n = active.shape[0]
    status = np.full(n, _NOT_SCANNED, np.int8)
    final_rate = rate0.copy()
    blocked_by = np.full(n, -1, np.int64)
    rated_volume = np.zeros(n, np.int64)
    rated_digits = np.full(n, digits, np.int8)
    amount = np.zeros(n, np.int64)
    prepaid = np.zeros(n, np.int64)
    refused = np.zeros(n, np.int64)
    take_row = np.empty(1024, np.int64)
    take_bucket = np.empty(1024, np.int64)
    take_qty = np.empty(1024, np.int64)
    takes = 0
    event_row = np.empty(1024, np.int64)
    event_slot = np.empty(1024, np.int64)
    event_threshold = np.empty(1024, np.int64)
    event_value = np.empty(1024, np.int64)
    events = 0
    pending_bucket = np.empty(max(1, sub_buckets.shape[0]), np.int64)
    pending_qty = np.empty(max(1, sub_buckets.shape[0]), np.int64)
    new_volume = np.empty(max(1, acc_def.shape[0]), np.int64)
    new_amount = np.empty(max(1, acc_def.shape[0]), np.int64)
    capping = t_capped.shape[0] > 0 and t_capped.any()
    for i in range(n):
        s = sub[i]
        if not active[i] or fallback[s]:
            continue
        rate = rate0[i]
        blocked = -1
        for k in range(acc_ptr[i], acc_ptr[i + 1]):
            d, slot = acc_def[k], acc_slot[k]
            if s_count[slot] == 0:
                continue  # nothing reached yet: nothing blocks or changes the rate
            for t in range(def_ptr[d], def_ptr[d + 1]):
                if s_rank[slot, t_column[t]] < 0:
                    continue
                if t_action[t] == _BLOCK:
                    blocked = t
                    break
                if t_action[t] == _CHANGE_RATE:
                    rate = t_rate[t]
            if blocked >= 0:
                break
        final_rate[i] = rate
        if blocked >= 0:
            status[i] = _BLOCKED
            blocked_by[i] = blocked
            continue
        if not r_ok[rate]:
            fallback[s] = True
            continue
        # the record's unit (the rate's when it names none) must convert to the rate's
        u = unit[i] if unit[i] >= 0 else r_per[rate]
        if conv_num[u, r_per[rate]] == 0:
            status[i] = _MISMATCH
            continue
        rule_unit = r_per[rate0[i]]  # accumulators count the volume in it (as it is when it does not convert)
        # volume caps first (rateUpToCap thresholds the volume would pass): the part up to the cap
        limit, volume_room, cut_by = volume[i], -1, -1
        if capping:  # a volume the scan cannot hold passes every cap: the reference decides
            counted, counted_ok = volume[i], True
            if conv_num[u, rule_unit] != 0:
                counted, counted_ok = _convert(volume[i], conv_num[u, rule_unit], conv_den[u, rule_unit], digits)
            volume_room, cut_by, ok = _cap(i, 0, counted if counted_ok else _MAX, s_volume, acc_ptr, acc_def,
                                           acc_slot, def_measure, def_capped, def_ptr, t_column, t_level, t_exact,
                                           t_capped, s_rank)
            if volume_room >= 0 and ok and counted_ok:
                limit = volume_room
                if conv_num[u, rule_unit] != 0:
                    limit, ok = _down_to(volume_room, conv_num[rule_unit, u], conv_den[rule_unit, u], digits)
            if not ok or (volume_room >= 0 and not counted_ok):
                fallback[s] = True
                continue
        # unit buckets, by Bucket.order, each converted to the record's unit
        left = limit
        pending = 0
        for bi in range(sub_bucket_ptr[s], sub_bucket_ptr[s + 1]):
            if left <= 0:
                break
            b = sub_buckets[bi]
            if b_money[b] or b_remaining[b] <= 0 or conv_num[b_unit[b], u] == 0 \
                    or not _serves(b, service[i], start[i], b_from, b_to, b_service_ptr, b_services):
                continue
            available, ok = _convert(b_remaining[b], conv_num[b_unit[b], u], conv_den[b_unit[b], u], digits)
            if not ok:
                fallback[s] = True
                break
            take = min(available, left)
            taken = b_remaining[b]  # a bucket used up gives exactly what it held
            if take != available:
                taken, ok = _convert(take, conv_num[u, b_unit[b]], conv_den[u, b_unit[b]], digits)
                if not ok:
                    fallback[s] = True
                    break
            pending_bucket[pending] = b
            pending_qty[pending] = taken
            pending += 1
            left -= take
        if fallback[s]:
            continue
        covered = limit - left
        per = r_per[rate]
        rated_value, rated_in, ok = _in_rate_units(left, conv_num[u, per], conv_den[u, per], digits)
        if not ok:
            fallback[s] = True
            continue
        # where the tiers start: the period total before the record and the part buckets served
        position, position_digits = 0, digits
        if r_count_def[rate] >= 0:
            position, position_digits, ok = _tier_position(i, r_count_def[rate], u, rule_unit, per, covered, digits,
                                                           acc_ptr, acc_def, acc_slot, s_volume, conv_num, conv_den)
            if not ok:
                fallback[s] = True
                continue
        if left == volume[i] and rate == rate0[i] and r_count_def[rate] < 0:
            if not amount0_fits[i]:
                fallback[s] = True
                continue
            charge = amount0[i]
        else:
            charge, ok = _charge_from(rate, position, position_digits, rated_value, rated_in, r_kind, r_price_digits,
                                      r_volume_digits, r_minor, r_flat, r_tier_ptr, tier_up, tier_amount)
            if not ok:
                fallback[s] = True
                continue
        # then amount caps: the largest part whose charge fits below them
        cut_measure = 0 if volume_room >= 0 else -1
        cut_room = volume_room
        if capping:
            charge_scan, ok = _mul(charge, _POW10[SCAN_DIGITS - r_minor[rate]])
            amount_room, amount_by, fits = _cap(i, 1, charge_scan, s_amount, acc_ptr, acc_def, acc_slot, def_measure,
                                                def_capped, def_ptr, t_column, t_level, t_exact, t_capped, s_rank)
            if not ok or not fits:
                fallback[s] = True
                continue
            if amount_room >= 0:
                budget = amount_room // _POW10[SCAN_DIGITS - r_minor[rate]]  # down to the minor unit
                left, ok = _affordable(rate, u, left, digits, budget, position, position_digits, conv_num,
                                       conv_den, r_per, r_kind, r_price_digits, r_volume_digits, r_minor, r_flat,
                                       r_tier_ptr, tier_up, tier_amount)
                if ok:
                    rated_value, rated_in, ok = _in_rate_units(left, conv_num[u, per], conv_den[u, per], digits)
                if ok:
                    charge, ok = _charge_from(rate, position, position_digits, rated_value, rated_in, r_kind,
                                              r_price_digits, r_volume_digits, r_minor, r_flat, r_tier_ptr, tier_up,
                                              tier_amount)
                if not ok:
                    fallback[s] = True
                    continue
                cut_measure, cut_room, cut_by = 1, amount_room, amount_by
        if cut_measure >= 0:
            refused[i] = volume[i] - covered - left
            if covered + left <= 0:  # nothing left to rate: rejected as the reached cap rejects
                status[i] = _BLOCKED
                blocked_by[i] = cut_by
                continue
        if charge > r_max_amount[rate]:  # rating.MAX_AMOUNT, in minor units
            status[i] = _TOO_LARGE
            amount[i] = charge
            continue
        charge_scan, ok = _mul(charge, _POW10[SCAN_DIGITS - r_minor[rate]])
        if not ok:
            fallback[s] = True
            continue
        # money buckets of the rate's currency (prepaid): all of the charge, down to their floors
        has_money = False
        due = charge_scan
        for bi in range(sub_bucket_ptr[s], sub_bucket_ptr[s + 1]):
            b = sub_buckets[bi]
            if not b_money[b] or b_unit[b] != r_currency[rate] \
                    or not _serves(b, service[i], start[i], b_from, b_to, b_service_ptr, b_services):
                continue
            has_money = True
            if due <= 0:
                break
            if b_has_floor[b]:
                available, ok = _add(b_remaining[b], -b_floor[b])
                if not ok:
                    fallback[s] = True
                    break
                available = max(available, 0)
            else:
                available = due
            take = min(available, due)
            if take > 0:
                pending_bucket[pending] = b
                pending_qty[pending] = take
                pending += 1
                due -= take
        if fallback[s]:
            continue
        amount[i] = charge
        if has_money and due > 0:
            status[i] = _INSUFFICIENT
            continue
        paid_ahead = charge if has_money else 0
        if charge - paid_ahead > 0:
            # the payer plan was decided with the whole charge at the rule's rate: check the guess
            if (amount_dependent[i] and charge != amount0[i]) or \
                    (currency_dependent[i] and r_currency[rate] != r_currency[rate0[i]]):
                fallback[s] = True
                continue
            if unassigned[i]:
                status[i] = _UNASSIGNED
                continue
        if cut_measure == 0:  # a volume cap takes its accumulators exactly to at
            counted = volume_room
        else:  # the whole volume, or the part an amount cap left
            counted = volume[i] if cut_measure < 0 else covered + left
            if conv_num[u, rule_unit] != 0:
                counted, ok = _convert(counted, conv_num[u, rule_unit], conv_den[u, rule_unit], digits)
                if not ok:
                    fallback[s] = True
                    continue
        # totals first (they may overflow), then everything is committed
        for k in range(acc_ptr[i], acc_ptr[i + 1]):
            slot = acc_slot[k]
            new_volume[k - acc_ptr[i]], ok = _add(s_volume[slot], counted)
            if not ok:
                fallback[s] = True
            new_amount[k - acc_ptr[i]], ok = _add(s_amount[slot], charge_scan)
            if not ok:
                fallback[s] = True
        if fallback[s]:
            continue
        take_row = _grow(take_row, takes + pending)
        take_bucket = _grow(take_bucket, takes + pending)
        take_qty = _grow(take_qty, takes + pending)
        for p in range(pending):
            b = pending_bucket[p]
            b_remaining[b] -= pending_qty[p]
            take_row[takes] = i
            take_bucket[takes] = b
            take_qty[takes] = pending_qty[p]
            takes += 1
        for k in range(acc_ptr[i], acc_ptr[i + 1]):
            d, slot = acc_def[k], acc_slot[k]
            s_volume[slot] = new_volume[k - acc_ptr[i]]
            s_amount[slot] = new_amount[k - acc_ptr[i]]
            value = s_volume[slot] if def_measure[d] == 0 else s_amount[slot]
            if def_ptr[d] == def_ptr[d + 1]:
                continue
            cut = cut_measure >= 0 and cut_measure == def_measure[d]  # a cap of it may have cut the record
            if value < t_level[def_ptr[d]] and not cut:
                continue  # below the lowest threshold (they are listed from the lowest)
            before = value - (counted if def_measure[d] == 0 else charge_scan)
            for t in range(def_ptr[d], def_ptr[d + 1]):
                # reached at its level; the cap the record was cut to whatever the total comes to
                if s_rank[slot, t_column[t]] >= 0 or (value < t_level[t] and not (
                        cut and _cut_to(t, d, cut_measure, cut_room, before, def_measure, t_capped, t_exact,
                                        t_level))):
                    continue
                s_rank[slot, t_column[t]] = s_count[slot]
                s_count[slot] += 1
                event_row = _grow(event_row, events + 1)
                event_slot = _grow(event_slot, events + 1)
                event_threshold = _grow(event_threshold, events + 1)
                event_value = _grow(event_value, events + 1)
                event_row[events] = i
                event_slot[events] = slot
                event_threshold[events] = t
                event_value[events] = value
                events += 1
        status[i] = _RATED
        rated_volume[i] = rated_value
        rated_digits[i] = rated_in
        prepaid[i] = paid_ahead
        if refused[i] > 0:
            blocked_by[i] = cut_by  # the threshold whose reason the refused part is given
    return (status, final_rate, blocked_by, rated_volume, rated_digits, amount, prepaid, refused,
            take_row[:takes], take_bucket[:takes], take_qty[:takes],
            event_row[:events], event_slot[:events], event_threshold[:events], event_value[:events])


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: a hash's high bits pick its slot


@njit(cache=True, nogil=True)  # run on the thread that reads ahead, beside the one that cuts partitions
def _seen_ids(table1: NDArray[np.uint64], table2: NDArray[np.uint64], first: NDArray[np.uint64],
              second: NDArray[np.uint64], present: _Mask, shift: int) -> tuple[_Mask, int]:
    """Which (first, second) hash pairs, in order, are in the open-addressing table (linear
    probing; a slot whose first hash is 0 is empty, a 0 first hash is taken as 1) or earlier
    among these: those are repeats; the others are added. Gives the repeats and the count
    added. The table must have room for all of them (the caller grows it first)."""
    mask = table1.shape[0] - 1
    repeat = np.zeros(first.shape[0], np.bool_)
    added = 0
    for i in range(first.shape[0]):
        if not present[i]:
            continue
        a = first[i]
        if a == 0:
            a = np.uint64(1)
        b = second[i]
        slot = np.int64((a * _GOLDEN) >> np.uint64(shift))
        while True:
            held = table1[slot]
            if held == 0:
                table1[slot] = a
                table2[slot] = b
                added += 1
                break
            if held == a and table2[slot] == b:
                repeat[i] = True
                break
            slot = (slot + 1) & mask
    return repeat, added


@njit(cache=True, nogil=True)  # run on the thread that reads the next partition back
def _by_subscriber_and_start(group: _I64, start: _I64, groups: int) -> _I64:
    """The permutation that sorts records by (``group``, ``start``), records with equal
    pairs in their given order (a stable sort): ``np.lexsort((start, group))``. The groups
    (subscriber ranks + 1, in ``0..groups-1``) by counting, then each group's records by
    start — by insertion when it has a few, by numpy's merge sort otherwise. Half the time
    of numpy's unstable sort of one integer key on 200,000 records of 4,000 subscribers."""
    n = group.shape[0]
    first = np.zeros(groups + 1, np.int64)
    for i in range(n):
        first[group[i] + 1] += 1
    for g in range(groups):
        first[g + 1] += first[g]
    at = first[:groups].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        g = group[i]
        order[at[g]] = i
        at[g] += 1
    for g in range(groups):
        low, high = first[g], first[g + 1]
        if high - low <= 1:
            continue
        if high - low <= 32:  # insertion: moves a record past those with a later start only
            for k in range(low + 1, high):
                record = order[k]
                key = start[record]
                j = k - 1
                while j >= low and start[order[j]] > key:
                    order[j + 1] = order[j]
                    j -= 1
                order[j + 1] = record
        else:
            members = order[low:high].copy()
            order[low:high] = members[np.argsort(start[members], kind="mergesort")]
    return order


def _compiled(kernel: Callable[_P, _R]) -> Callable[_P, _R]:
    """The kernel, called with writable C-ordered arrays only: numba compiles one version per
    kind of array, and polars hands out read-only views or copies depending on the data — a
    second compilation (seconds) in the middle of a file otherwise."""
    untyped: Callable[..., _R] = kernel  # called with the arguments made over

    def call(*arguments: _P.args, **keywords: _P.kwargs) -> _R:
        return untyped(*(np.require(a, requirements=["C", "W"]) if isinstance(a, np.ndarray) else a
                         for a in arguments), **keywords)
    return call
