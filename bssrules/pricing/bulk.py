"""Bulk rating: a chunk of usage records as columns, with the same results as the reference.

``rate_chunk(records, subscribers, book, state)`` gives, for a subscriber-partitioned chunk,
exactly what :func:`bssrules.pricing.rating.rate_records` gives record by record — same
statuses, reasons, rates, amounts, bucket takes, events, charges per payer and new state —
and holds nothing between calls: the balances and accumulators come in and go out as a
:class:`BulkState` of two frames, so a chunk can be rated on any worker.

How (the steps of :mod:`bssrules.pricing.rating`, vectorised):

1. order the records by (subscriber, start, id); reject the malformed ones and those of
   unknown subscribers;
2. decide every usage rule set for all records at once: polars evaluates the conditions
   compiled from the rules (:mod:`bssrules.pricing.vectorized`), numpy picks the rule set
   and rule that rate each record, the accumulators that count it, or the reasons of its
   rejection;
3. price the whole volume at the rule's rate (graduated / volume tiers exactly as
   :func:`bssrules.pricing.rates.exact_charge`, half-up to the currency's minor unit, in
   scaled integers — never floats);
4. decide the split billing plan of each charge (payer role or shares) and whether its
   roles have billing accounts;
5. scan each subscriber's records in order (a numba-compiled loop over numpy arrays): block
   and changeRate thresholds, the unit check, unit buckets by :meth:`Bucket.order` with
   volumes converted as :func:`bssrules.pricing.units.convert` does, the price of what is
   left (re-priced only when a bucket or a threshold changed it), money buckets down to
   their floors (prepaid), the payer check, then accumulator totals and threshold events;
6. share the billed part between payers (largest remainder, ties to the earliest part,
   exactly as :func:`bssrules.money.allocate`) and assemble the rated frame.

Exact arithmetic: volumes, balances and totals are decimals with at most
:data:`VOLUME_DIGITS` decimals in the frames. The scan works in int64: money in millionths
of the currency (:data:`SCAN_DIGITS`), volumes with 6 decimals — or 12 in a chunk where
conversions do not come out in decimals (seconds to minutes, which ``units.convert`` rounds
to 12) or where the values need them — prices as integers at their own scale; every product
and sum is checked for overflow.

Falls back to the reference (:func:`rate_records` for one subscriber: its records of the
chunk with its balances and totals) — never guessing — when:

- a value does not fit the scan's integers: a volume, balance, floor or total with more
  decimals than the chunk's scale, a conversion whose result needs more, or a product or
  sum beyond int64;
- the subscription's split billing rule set tests ``charge.amount`` or ``charge.currency``
  and a bucket or a changeRate threshold changed the charge it was decided with (the
  decision is taken up front with the undiminished charge, and the scan checks the guess);
- a usage rule set in force uses a prerequisite or accumulator id twice (the engine then
  reports one key for two conditions; only the reference reproduces that).

The ``rated_by`` column says which path rated each record ("bulk" or "reference").

The order of records sharing subscriber, start *and* id follows their text as the
reference's does, but here the start is in UTC where the reference keeps its own offset;
records with an unreadable start come after the others of their subscriber, by id.
"""
from __future__ import annotations

import datetime as dt
import math
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import polars as pl
import pyarrow as pa
from numba import njit

from bssrules.money import ISO_4217, minor_unit_exponent
from bssrules.pricing.rating import malformed as malformed_problem
from bssrules.pricing.rating import MAX_AMOUNT, MAX_VOLUME, rate_records
from bssrules.pricing.units import convert
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, Charge, Event, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.pricing.vectorized import (
    NO_PAYER, SUBSCRIBER_DEFAULT, UNAVAILABLE, FactColumns, SplitBillingDecisions, UsageDecisions, condition_expr,
    test_key,
)
from bssrules.rules.conditions import tests_of
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import Rate

VOLUME_DIGITS = 12  # decimals of volumes, balances and totals in the frames
MONEY_DIGITS = 3  # decimals of amounts in the rated frame (the largest ISO 4217 minor unit)
SCAN_DIGITS = 6  # decimals of money in the scan (int64), and of volumes unless a chunk needs 12
_MAX = np.iinfo(np.int64).max
_CONVERT_DIGITS = 12  # units.convert rounds a conversion that does not come out exact to 12 decimals
_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)

UTC_MICROS = pl.Datetime("us", "UTC")
VOLUME = pl.Decimal(38, VOLUME_DIGITS)
MONEY = pl.Decimal(38, MONEY_DIGITS)

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8, "subscriber": pl.Utf8, "service": pl.Utf8, "start": UTC_MICROS, "volume": VOLUME,
    "unit": pl.Utf8, "type": pl.Utf8, "roaming": pl.Boolean, "country": pl.Utf8,
    "malformed": pl.Utf8,  # why the record cannot be rated whatever the rules say (null: it can)
}
PAYER = pl.Struct({"role": pl.Utf8, "account": pl.Utf8})
SUBSCRIBER_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8, "party_id": pl.Utf8, "classification": pl.Utf8, "offering": pl.Utf8,
    "active_offerings": pl.List(pl.Utf8), "payers": pl.List(PAYER), "split_billing": pl.Utf8,
}
BUCKET_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8, "subscriber": pl.Utf8, "unit": pl.Utf8, "remaining": VOLUME, "precedence": pl.Int64,
    "services": pl.List(pl.Utf8), "valid_from": UTC_MICROS, "valid_to": UTC_MICROS,
    "floor": VOLUME,  # null: no limit
}
ACCUMULATOR_SCHEMA: dict[str, pl.DataType] = {
    "accumulator": pl.Utf8, "subscriber": pl.Utf8, "period": pl.Utf8, "volume": VOLUME, "amount": VOLUME,
    "reached": pl.List(pl.Utf8),
}
REASON = pl.Struct({"code": pl.Utf8, "label": pl.Utf8, "prerequisite": pl.Utf8, "threshold": pl.Utf8})
CHARGE = pl.Struct({"payer": pl.Utf8, "billing_account": pl.Utf8, "amount": MONEY})
TAKE = pl.Struct({"bucket": pl.Utf8, "taken": VOLUME})
EVENT = pl.Struct({"kind": pl.Utf8, "accumulator": pl.Utf8, "threshold": pl.Utf8, "action": pl.Utf8,
                   "subscriber": pl.Utf8, "period": pl.Utf8, "value": VOLUME, "record": pl.Utf8})
RATED_SCHEMA: dict[str, pl.DataType] = {
    **{k: v for k, v in RECORD_SCHEMA.items() if k != "malformed"},
    "status": pl.Utf8, "rule_set": pl.Utf8, "rule": pl.Utf8, "provisioning_id": pl.Utf8, "currency": pl.Utf8,
    "rated_volume": VOLUME, "amount": MONEY, "prepaid": MONEY, "charges": pl.List(CHARGE),
    "buckets": pl.List(TAKE), "events": pl.List(EVENT), "reasons": pl.List(REASON),
    "reason_code": pl.Utf8, "reason_label": pl.Utf8, "rated_by": pl.Utf8,
}


@dataclass(frozen=True)
class BulkState:
    """Balances and accumulator totals as frames (:data:`BUCKET_SCHEMA`,
    :data:`ACCUMULATOR_SCHEMA`): what :class:`RatingState` holds, for whole files."""

    buckets: pl.DataFrame
    accumulators: pl.DataFrame

    @classmethod
    def empty(cls) -> "BulkState":
        return cls(pl.DataFrame(schema=BUCKET_SCHEMA), pl.DataFrame(schema=ACCUMULATOR_SCHEMA))

    @classmethod
    def from_rating_state(cls, state: RatingState) -> "BulkState":
        """The frames of a :class:`RatingState` (exact; a value with more than
        :data:`VOLUME_DIGITS` decimals is refused)."""
        buckets = [{"id": b.id, "subscriber": b.subscriber, "unit": b.unit, "remaining": _exact(b.remaining),
                    "precedence": b.precedence, "services": list(b.services), "valid_from": b.valid_from,
                    "valid_to": b.valid_to, "floor": None if b.floor is None else _exact(b.floor)}
                   for b in state.buckets.values()]
        totals = [{"accumulator": k.accumulator, "subscriber": k.subscriber, "period": k.period,
                   "volume": _exact(t.volume), "amount": _exact(t.amount), "reached": list(t.reached)}
                  for k, t in state.accumulators.items()]
        return cls(pl.DataFrame(buckets, schema=BUCKET_SCHEMA), pl.DataFrame(totals, schema=ACCUMULATOR_SCHEMA))

    def to_rating_state(self) -> RatingState:
        """The :class:`RatingState` these frames hold."""
        buckets = {}
        for row in self.buckets.iter_rows(named=True):
            buckets[row["id"]] = Bucket(row["id"], row["subscriber"], row["unit"], _plain(row["remaining"]),
                                        row["precedence"], tuple(row["services"] or ()), row["valid_from"],
                                        row["valid_to"], None if row["floor"] is None else _plain(row["floor"]))
        totals = {}
        for row in self.accumulators.iter_rows(named=True):
            key = AccumulatorKey(row["accumulator"], row["subscriber"], row["period"])
            totals[key] = AccumulatorTotal(_plain(row["volume"]), _plain(row["amount"]), tuple(row["reached"] or ()))
        return RatingState(buckets, totals)

    def of_subscribers(self, subscribers: pl.Series) -> "BulkState":
        """Only the balances and totals of these subscribers."""
        return BulkState(self.buckets.filter(pl.col("subscriber").is_in(subscribers.implode())),
                         self.accumulators.filter(pl.col("subscriber").is_in(subscribers.implode())))


def _exact(value: Decimal) -> Decimal:
    if not value.is_finite() or value.normalize().as_tuple().exponent < -VOLUME_DIGITS:  # type: ignore[operator]
        raise ValueError(f"{value} has more than {VOLUME_DIGITS} decimals: bulk rating keeps {VOLUME_DIGITS}")
    return value


def _representable(value: Decimal) -> bool:
    return value.is_finite() and value.normalize().as_tuple().exponent >= -VOLUME_DIGITS  # type: ignore[operator]


def _plain(value: Decimal) -> Decimal:
    """A decimal without the trailing zeros of its column's scale (1.500000000000 -> 1.5)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


# ------------------------------------------------------------------------------ converters


def records_frame(records: Iterable[UsageRecord]) -> pl.DataFrame:
    """The records as a frame of :data:`RECORD_SCHEMA` (``malformed`` as the reference says)."""
    rows = []
    for r in records:
        problem = malformed_problem(r)
        rows.append({"id": r.id, "subscriber": r.subscriber, "service": r.service,
                     "start": None if r.start.tzinfo is None else r.start,
                     "volume": _exact(r.volume) if _representable(r.volume) else None, "unit": r.unit, "type": r.type,
                     "roaming": r.roaming, "country": r.country, "malformed": problem})
    return pl.DataFrame(rows, schema=RECORD_SCHEMA)


def usage_records(frame: pl.DataFrame) -> list[UsageRecord]:
    """The well-formed records of a frame of :data:`RECORD_SCHEMA`, as values."""
    return [UsageRecord(row["id"], row["subscriber"], row["service"], row["start"], _plain(row["volume"]),
                        row["unit"], row["type"], row["roaming"], row["country"])
            for row in frame.iter_rows(named=True) if row.get("malformed") is None]


def subscribers_frame(subscribers: Mapping[str, Subscriber] | Iterable[Subscriber]) -> pl.DataFrame:
    """Subscribers as a frame of :data:`SUBSCRIBER_SCHEMA` (payers in their order)."""
    values = subscribers.values() if isinstance(subscribers, Mapping) else subscribers
    rows = [{"id": s.id, "party_id": s.party_id, "classification": s.classification, "offering": s.offering,
             "active_offerings": list(s.active_offerings),
             "payers": [{"role": role, "account": account} for role, account in s.payers.items()],
             "split_billing": s.split_billing} for s in values]
    return pl.DataFrame(rows, schema=SUBSCRIBER_SCHEMA)


def subscribers_of(frame: pl.DataFrame) -> dict[str, Subscriber]:
    """The subscribers of a frame of :data:`SUBSCRIBER_SCHEMA`, by id."""
    found = {}
    for row in frame.iter_rows(named=True):
        found[row["id"]] = Subscriber(row["id"], row["party_id"], row["classification"], row["offering"],
                                      tuple(row["active_offerings"] or ()),
                                      {p["role"]: p["account"] for p in row["payers"] or ()}, row["split_billing"])
    return found


def rated_usages(frame: pl.DataFrame) -> list[RatedUsage]:
    """The rated frame as the reference's values, row by row (for comparisons and tests)."""
    results = []
    for row in frame.iter_rows(named=True):
        record = UsageRecord(row["id"], row["subscriber"], row["service"], row["start"],
                             _plain(row["volume"]) if row["volume"] is not None else Decimal(0),
                             row["unit"], row["type"], row["roaming"], row["country"])
        reasons = tuple({k: v for k, v in r.items() if v is not None} for r in row["reasons"] or ())
        results.append(RatedUsage(
            record, row["status"], reasons, row["rule_set"], row["rule"], row["provisioning_id"], row["currency"],
            _plain(row["rated_volume"]), _plain(row["amount"]), _plain(row["prepaid"]),
            tuple(Charge(c["payer"], c["billing_account"], _plain(c["amount"])) for c in row["charges"] or ()),
            tuple((t["bucket"], _plain(t["taken"])) for t in row["buckets"] or ()),
            tuple(Event(e["kind"], e["accumulator"], e["threshold"], e["action"], e["subscriber"], e["period"],
                        _plain(e["value"]), e["record"]) for e in row["events"] or ())))
    return results


def rated_frame(results: Sequence[RatedUsage], rated_by: str = "reference") -> pl.DataFrame:
    """Results of the reference as a frame of :data:`RATED_SCHEMA`."""
    rows = []
    for r in results:
        record = r.record
        reasons = [{"code": x.get("code"), "label": x.get("label"), "prerequisite": x.get("prerequisite"),
                    "threshold": x.get("threshold")} for x in r.reasons]
        rows.append({
            "id": record.id, "subscriber": record.subscriber, "service": record.service, "start": record.start,
            "volume": record.volume, "unit": record.unit, "type": record.type, "roaming": record.roaming,
            "country": record.country, "status": r.status, "rule_set": r.rule_set, "rule": r.rule,
            "provisioning_id": r.provisioning_id, "currency": r.currency, "rated_volume": r.rated_volume,
            "amount": r.amount, "prepaid": r.prepaid,
            "charges": [{"payer": c.payer, "billing_account": c.billing_account, "amount": c.amount}
                        for c in r.charges],
            "buckets": [{"bucket": b, "taken": q} for b, q in r.buckets],
            "events": [{"kind": e.kind, "accumulator": e.accumulator, "threshold": e.threshold, "action": e.action,
                        "subscriber": e.subscriber, "period": e.period, "value": e.value, "record": e.record}
                       for e in r.events],
            "reasons": reasons, "reason_code": reasons[0]["code"] if reasons else None,
            "reason_label": reasons[0]["label"] if reasons else None, "rated_by": rated_by})
    return pl.DataFrame(rows, schema=RATED_SCHEMA)


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The frame with exactly the columns of ``schema``, in order and of its types (absent
    optional columns as nulls)."""
    columns = []
    for name, dtype in schema.items():
        if name in frame.columns:
            columns.append(frame[name].cast(dtype) if frame.schema[name] != dtype else frame[name])
        else:
            columns.append(pl.Series(name, [None] * frame.height, dtype=dtype))
    return pl.DataFrame(columns)


# ------------------------------------------------------------------ exact integer columns


def scaled_integers(series: pl.Series, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """A decimal column as int64 ``value * 10**digits``, and where that is exact (nulls: 0, exact)."""
    dtype = series.dtype
    assert isinstance(dtype, pl.Decimal)
    scale = dtype.scale or 0
    n = series.len()
    if n == 0:
        return np.zeros(0, np.int64), np.ones(0, bool)
    # the 128-bit integers of the column, read in place: most of them fit 64 bits
    array = series.rechunk().to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    words = np.frombuffer(array.buffers()[1], dtype=np.int64, count=2 * (array.offset + n))[2 * array.offset:]
    low, high = words[0::2], words[1::2]
    narrow = high == (low >> 63)
    valid = ~series.is_null().to_numpy()
    value = np.where(narrow & valid, low, 0)
    if scale >= digits:
        quotient, remainder = np.divmod(value, 10 ** (scale - digits))
        fits, value = remainder == 0, quotient
    else:
        factor = 10 ** (digits - scale)
        fits = np.abs(value) <= _MAX // factor
        value = np.where(fits, value, 0) * factor
    fits = np.where(valid, fits & narrow, True)
    if not narrow[valid].all():  # values beyond 64 bits at the column's scale: exact 128-bit arithmetic
        wide = np.nonzero(valid & ~narrow)[0]
        value[wide], fits[wide] = _scaled_wide(series.gather(wide), scale, digits)
    return value.astype(np.int64, copy=True), fits  # writable: the scan updates it


def _scaled_wide(series: pl.Series, scale: int, digits: int) -> tuple[np.ndarray, np.ndarray]:
    physical = pl.DataFrame({"p": series.to_physical()})
    if scale >= digits:
        factor = pl.lit(10 ** (scale - digits), dtype=pl.Int128)
        parts = physical.select(rem=(pl.col("p") % factor).fill_null(0),
                                value=(pl.col("p") // factor).cast(pl.Int64, strict=False))
    else:
        parts = physical.select(rem=pl.lit(0, dtype=pl.Int128),
                                value=(pl.col("p") * pl.lit(10 ** (digits - scale), dtype=pl.Int128))
                                .cast(pl.Int64, strict=False))
    value = parts["value"]
    fits = (parts["rem"] == 0).to_numpy() & value.is_not_null().to_numpy()
    return value.fill_null(0).to_numpy(), fits


def decimal_column(name: str, values: np.ndarray, digits: int, dtype: pl.Decimal,
                   valid: np.ndarray | None = None) -> pl.Series:
    """int64 ``value * 10**digits`` as a decimal column of ``dtype`` (whose scale is at least ``digits``)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    words = np.empty((values.shape[0], 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63  # sign extension to 128 bits
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little").tobytes())
    array = pa.Array.from_buffers(pa.decimal128(38, digits), values.shape[0], [validity, pa.py_buffer(words.tobytes())])
    series = pl.Series(name, array)
    return series.cast(dtype) if dtype != series.dtype else series


def _decimal_digits(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _scale(value: Decimal, digits: int) -> int | None:
    """``value * 10**digits`` as an int64, if exact."""
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value() or abs(scaled) > _MAX:
        return None
    return int(scaled)


# ------------------------------------------------------------------------- book tables

# the facts of the subscription (not of the record) and the column of the subscribers frame holding each
_SUBSCRIPTION_FACTS = {"party.id": "party_id", "party.classification": "classification", "usage.offering": "offering",
                       "charge.offering": "offering", "inventory.activeOfferings": "active_offerings",
                       "inventory.offerings": "active_offerings"}
_FLAT, _GRADUATED, _VOLUME_TIERS = 0, 1, 2
_NOTIFY, _BLOCK, _CHANGE_RATE = 0, 1, 2
_ACTIONS = {"notify": _NOTIFY, "block": _BLOCK, "changeRate": _CHANGE_RATE}


@dataclass(frozen=True)
class _AccumulatorDef:
    version: int
    name: str  # "<rule set>/<accumulator>": the key shared by every version of the rule set
    measure: str
    period: str
    zone: str
    thresholds: tuple[int, ...]  # global threshold indexes


class _BookTables:
    """What a rule book becomes for bulk rating: decision expressions and numeric tables.
    Built once per book."""

    def __init__(self, book: RuleBook):
        self.usage = UsageDecisions(book)
        self.split = SplitBillingDecisions(book)
        self.rates: list[Rate] = [r.compiled.source.rate for r in self.usage.rules]
        self.defs: list[_AccumulatorDef] = []
        self.def_offsets: list[int] = []
        self.thresholds: list[tuple[int, Any]] = []  # (def, Threshold)
        self.threshold_rates: list[int] = []
        for index, compiled in enumerate(self.usage.versions):
            self.def_offsets.append(len(self.defs))
            for accumulator in compiled.definition.accumulators:  # type: ignore[union-attr]
                found = []
                for threshold in accumulator.thresholds:
                    found.append(len(self.thresholds))
                    self.thresholds.append((len(self.defs), threshold))
                    if threshold.action == "changeRate" and threshold.rate is not None:
                        self.threshold_rates.append(len(self.rates))
                        self.rates.append(threshold.rate)
                    else:
                        self.threshold_rates.append(-1)
                self.defs.append(_AccumulatorDef(index, f"{compiled.id}/{accumulator.id}", accumulator.measure,
                                                 accumulator.period, compiled.zone.key, tuple(found)))
        self.currencies = sorted({r.currency for r in self.rates})
        self.pers = [r.per for r in self.rates]
        self.names = sorted({d.name for d in self.defs})
        self.rate_arrays = self._rate_arrays()
        # the dearest charge one record may have (rating.MAX_AMOUNT), in each rate's minor units
        self.max_amounts = np.array([int(MAX_AMOUNT.scaleb(minor_unit_exponent(r.currency))) for r in self.rates]
                                    or [0], dtype=np.int64)

    def _rate_arrays(self) -> tuple[np.ndarray, ...]:
        currency_code = {c: i for i, c in enumerate(self.currencies)}
        n = len(self.rates)
        ok, kind = np.ones(n, bool), np.zeros(n, np.int8)
        price_digits, volume_digits, minor = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        flat, tier_ptr, currency = np.zeros(n, np.int64), np.zeros(n + 1, np.int64), np.zeros(n, np.int32)
        tier_up: list[int] = []
        tier_amount: list[int] = []
        for i, rate in enumerate(self.rates):
            amounts = [rate.amount] if rate.amount is not None else [t.amount for t in rate.tiers]
            p = max(_decimal_digits(a) for a in amounts)
            v = max([SCAN_DIGITS] + [_decimal_digits(t.up_to) for t in rate.tiers if t.up_to is not None])
            price_digits[i], volume_digits[i] = p, v
            minor[i] = minor_unit_exponent(rate.currency)
            currency[i] = currency_code[rate.currency]
            if rate.amount is not None:
                kind[i] = _FLAT
                scaled = _scale(rate.amount, p)
                ok[i] &= scaled is not None
                flat[i] = scaled or 0
            else:
                kind[i] = _VOLUME_TIERS if rate.tier_mode == "volume" else _GRADUATED
                for tier in rate.tiers:
                    up = -1 if tier.up_to is None else _scale(tier.up_to, v)
                    price = _scale(tier.amount, p)
                    ok[i] &= up is not None and price is not None
                    tier_up.append(up if up is not None else -1)
                    tier_amount.append(price or 0)
            tier_ptr[i + 1] = len(tier_up)
            # the product's scale must stay within int64 powers of ten, the rounding above the minor unit
            ok[i] &= p + v <= 18 and p + v >= minor[i]
        return (ok, kind, price_digits, volume_digits, minor, flat, tier_ptr,
                np.array(tier_up, np.int64), np.array(tier_amount, np.int64), currency)

    def threshold_arrays(self, threshold_columns: Mapping[tuple[str, str], int],
                         volume_digits: int) -> tuple[np.ndarray, ...]:
        """Per accumulator definition its thresholds; per threshold its column in the
        reached matrix, its level, action and rate."""
        def_measure = np.array([0 if d.measure == "volume" else 1 for d in self.defs], np.int8)
        def_ptr = np.zeros(len(self.defs) + 1, np.int64)
        for i, d in enumerate(self.defs):
            def_ptr[i + 1] = def_ptr[i] + len(d.thresholds)
        column = np.zeros(len(self.thresholds), np.int64)
        level = np.zeros(len(self.thresholds), np.int64)
        action = np.zeros(len(self.thresholds), np.int8)
        rate = np.array(self.threshold_rates, np.int32) if self.thresholds else np.zeros(0, np.int32)
        for t, (d, threshold) in enumerate(self.thresholds):
            column[t] = threshold_columns[(self.defs[d].name, threshold.id)]
            # value >= at  <=>  scaled value >= ceil(at * 10**digits): volumes or money
            digits = volume_digits if self.defs[d].measure == "volume" else SCAN_DIGITS
            level[t] = min(math.ceil(threshold.at.scaleb(digits)), int(_MAX))
            action[t] = _ACTIONS[threshold.action]
        return def_measure, def_ptr, column, level, action, rate


_TABLES: dict[int, tuple[weakref.ref, _BookTables]] = {}
_SUBSCRIPTIONS: dict[int, tuple[weakref.ref, pl.DataFrame, tuple[int, Any]]] = {}


def _subscription_table(subscribers: pl.DataFrame) -> pl.DataFrame:
    """The subscribers of :data:`SUBSCRIBER_SCHEMA`, one row per id (the last given, as a
    mapping keeps it), sorted by id. Kept for the frame's life: a file's chunks share it."""
    cached = _SUBSCRIPTIONS.get(id(subscribers))
    if cached is not None and cached[0]() is subscribers and cached[2] == (subscribers.height, subscribers.schema):
        return cached[1]
    table = conform(subscribers, SUBSCRIBER_SCHEMA).unique("id", keep="last", maintain_order=True).sort("id")
    _SUBSCRIPTIONS[id(subscribers)] = (weakref.ref(subscribers, lambda _, key=id(subscribers),
                                                   cache=_SUBSCRIPTIONS: cache.pop(key, None)), table,
                                       (subscribers.height, subscribers.schema))
    return table


def _tables(book: RuleBook) -> _BookTables:
    cached = _TABLES.get(id(book))
    if cached is not None and cached[0]() is book:
        return cached[1]
    tables = _BookTables(book)
    _TABLES[id(book)] = (weakref.ref(book, lambda _, key=id(book), cache=_TABLES: cache.pop(key, None)), tables)
    return tables


# ------------------------------------------------------------------------- numba kernels

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
    divisor = _POW10[digits]
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
def _convert(value, numerator, denominator, digits):
    """``units.convert`` of a volume with ``digits`` decimals to another unit
    (``value * numerator / denominator``): exact, or — with 12 decimals, as convert rounds —
    rounded half to even; not ok when the result needs more decimals than ``digits``."""
    if numerator == denominator:
        return value, True
    product, ok = _mul(value, numerator)
    if not ok:
        return 0, False
    if product % denominator == 0:
        return product // denominator, True
    if digits < _CONVERT_DIGITS:
        return 0, False
    return _half_even(product, denominator), True


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _in_rate_units(value, numerator, denominator, digits):
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


@njit(cache=True)
def _charge(rate, volume, digits, r_kind, r_price_digits, r_volume_digits, r_minor, r_flat, r_tier_ptr, tier_up,
            tier_amount):
    """The charge of ``volume`` (with ``digits`` decimals) at ``rate``, in minor units:
    ``rates.charge`` step by step (volume tiers beyond the last bound fall through to
    graduated, as there)."""
    if volume <= 0:
        return 0, True
    scale = max(digits, r_volume_digits[rate])
    if r_price_digits[rate] + scale - r_minor[rate] > 18:
        return 0, False
    vol, ok = _mul(volume, _POW10[scale - digits])
    if not ok:
        return 0, False
    tier_scale = _POW10[scale - r_volume_digits[rate]]
    total = 0
    if r_kind[rate] == _FLAT:
        total, ok = _mul(r_flat[rate], vol)
        if not ok:
            return 0, False
    else:
        found = False
        if r_kind[rate] == _VOLUME_TIERS:
            for j in range(r_tier_ptr[rate], r_tier_ptr[rate + 1]):
                up, ok = _mul(tier_up[j], tier_scale)
                if not ok:
                    return 0, False
                if tier_up[j] < 0 or vol <= up:
                    total, ok = _mul(tier_amount[j], vol)
                    if not ok:
                        return 0, False
                    found = True
                    break
        if not found:
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
    return _round_half_up(total, r_price_digits[rate] + scale - r_minor[rate]), True


@njit(cache=True)
def _price_all(active, rate, volume, digits, unit, r_ok, r_per, conv_num, conv_den, r_kind, r_price_digits,
               r_volume_digits, r_minor, r_flat, r_tier_ptr, tier_up, tier_amount):
    """The charge of every active record's whole volume at its rule's rate (minor units)."""
    n = active.shape[0]
    amount = np.zeros(n, np.int64)
    fits = np.ones(n, np.bool_)
    for i in range(n):
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
    return amount, fits


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _grow(array, needed):
    if needed <= array.shape[0]:
        return array
    bigger = np.empty(max(needed, 2 * array.shape[0]), array.dtype)
    bigger[:array.shape[0]] = array
    return bigger


@njit(cache=True, inline="always")  # small: inlined into the loops that call it
def _serves(b, service, at, b_from, b_to, b_service_ptr, b_services):
    if at < b_from[b] or at >= b_to[b]:
        return False
    if b_service_ptr[b] == b_service_ptr[b + 1]:
        return True
    for k in range(b_service_ptr[b], b_service_ptr[b + 1]):
        if b_services[k] == service:
            return True
    return False


@njit(cache=True)
def _scan(active, sub, start, service, unit, volume, digits, rate0, amount0, amount0_fits, acc_ptr, acc_def, acc_slot,
          unassigned, amount_dependent, currency_dependent, fallback,
          sub_bucket_ptr, sub_buckets, b_money, b_unit, b_remaining, b_floor, b_has_floor, b_from, b_to,
          b_service_ptr, b_services, s_volume, s_amount, s_rank, s_count,
          def_measure, def_ptr, t_column, t_level, t_action, t_rate, conv_num, conv_den,
          r_ok, r_per, r_kind, r_price_digits, r_volume_digits, r_minor, r_flat, r_tier_ptr, tier_up, tier_amount,
          r_currency, r_max_amount):
    """The stateful part of rating, record by record in rating order (``rating._rate_one``
    from step 2 on). Balances and totals are updated in place; a subscriber whose values
    leave the integers here is flagged in ``fallback`` and its results are not to be used.
    Volumes (records, unit buckets, volume totals) have ``digits`` decimals, money
    :data:`SCAN_DIGITS`."""
    n = active.shape[0]
    status = np.full(n, _NOT_SCANNED, np.int8)
    final_rate = rate0.copy()
    blocked_by = np.full(n, -1, np.int64)
    rated_volume = np.zeros(n, np.int64)
    rated_digits = np.full(n, digits, np.int8)
    amount = np.zeros(n, np.int64)
    prepaid = np.zeros(n, np.int64)
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
        # unit buckets, by Bucket.order, each converted to the record's unit
        left = volume[i]
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
        per = r_per[rate]
        rated_value, rated_in, ok = _in_rate_units(left, conv_num[u, per], conv_den[u, per], digits)
        if not ok:
            fallback[s] = True
            continue
        if left == volume[i] and rate == rate0[i]:
            if not amount0_fits[i]:
                fallback[s] = True
                continue
            charge = amount0[i]
        else:
            charge, ok = _charge(rate, rated_value, rated_in, r_kind, r_price_digits, r_volume_digits, r_minor, r_flat,
                                 r_tier_ptr, tier_up, tier_amount)
            if not ok:
                fallback[s] = True
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
        # accumulators count the volume in the rule's unit (as it is when it does not convert)
        counted = volume[i]
        rule_unit = r_per[rate0[i]]
        if conv_num[u, rule_unit] != 0:
            counted, ok = _convert(volume[i], conv_num[u, rule_unit], conv_den[u, rule_unit], digits)
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
            if def_ptr[d] == def_ptr[d + 1] or value < t_level[def_ptr[d]]:
                continue  # below the lowest threshold (they are listed from the lowest)
            for t in range(def_ptr[d], def_ptr[d + 1]):
                if s_rank[slot, t_column[t]] < 0 and value >= t_level[t]:
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
    return (status, final_rate, blocked_by, rated_volume, rated_digits, amount, prepaid,
            take_row[:takes], take_bucket[:takes], take_qty[:takes],
            event_row[:events], event_slot[:events], event_threshold[:events], event_value[:events])


def _compiled(kernel: Any) -> Any:
    """The kernel, called with writable C-ordered arrays only: numba compiles one version per
    kind of array, and polars hands out read-only views or copies depending on the data — a
    second compilation (seconds) in the middle of a file otherwise."""
    def call(*arguments: Any) -> Any:
        return kernel(*(np.require(a, requirements=["C", "W"]) if isinstance(a, np.ndarray) else a
                        for a in arguments))
    return call


# ------------------------------------------------------------------------------ the chunk


class _Stages:
    """Time per stage, added into ``timings`` when given (for benchmarks)."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def rating_order(subscriber_rank: np.ndarray, start: np.ndarray, ids: pl.Series,
                 records: pl.DataFrame | None = None) -> np.ndarray:
    """The permutation that sorts records as ``rating.rating_order`` does: by (subscriber,
    start, id) — ranks and microseconds as one integer key where they fit, ties broken by
    id — then, for records sharing all three, by the text of the record (``records``)."""
    n = subscriber_rank.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    low = int(start.min())
    span_bits = int(int(start.max()) - low).bit_length()
    rank_bits = int(int(subscriber_rank.max()) + 2).bit_length()
    if span_bits + rank_bits <= 62:
        key = ((subscriber_rank.astype(np.int64) + 1) << span_bits) | (start - low)
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        tie = ordered[1:] == ordered[:-1]
    else:
        order = np.lexsort((start, subscriber_rank))
        tie = (subscriber_rank[order][1:] == subscriber_rank[order][:-1]) & (start[order][1:] == start[order][:-1])
    if tie.any():
        in_tie = np.zeros(n, bool)
        in_tie[1:] |= tie
        in_tie[:-1] |= tie
        run = np.concatenate(([0], np.cumsum(~tie)))
        places = np.nonzero(in_tie)[0]
        ties = pl.DataFrame({"run": run[places], "id": ids.gather(order[places]), "at": np.arange(places.shape[0])})
        by_id = ties.sort(["run", "id"], maintain_order=True)
        order[places] = order[places][by_id["at"].to_numpy()]
        same = (by_id["run"] == by_id["run"].shift(1)) & (by_id["id"] == by_id["id"].shift(1))
        if records is not None and same.any():
            _order_duplicates(order, places, by_id["run"].to_numpy(), same.fill_null(False).to_numpy(), records)
    return order


def _order_duplicates(order: np.ndarray, places: np.ndarray, run: np.ndarray, same: np.ndarray,
                      records: pl.DataFrame) -> None:
    """Records sharing subscriber, start and id, in the order of their text (``repr``), as the
    reference breaks such ties (its text keeps the start's own offset; here it is UTC)."""
    group = np.concatenate([[0], np.cumsum(~same[1:])]) if same.shape[0] else same.astype(np.int64)
    for g in np.unique(group[same]):
        members = places[group == g]
        rows = order[members]
        texts = [repr(r) for r in usage_records(records[rows].with_columns(malformed=pl.lit(None, pl.Utf8)))]
        order[members] = rows[np.argsort(np.array(texts, dtype=object), kind="stable")]


def rate_chunk(records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, state: BulkState,
               timings: dict[str, float] | None = None) -> tuple[pl.DataFrame, BulkState]:
    """Rate a chunk of records (:data:`RECORD_SCHEMA`) of subscribers
    (:data:`SUBSCRIBER_SCHEMA`) with the balances and totals of ``state``; return the
    rated frame (:data:`RATED_SCHEMA`, in rating order) and the new state.

    Every subscriber of the chunk must have all its records of the period in the chunk,
    in this call or in calls made later with the state this one returns (what a partition
    by subscriber gives). ``timings``, when given, receives the seconds spent per stage."""
    return _Chunk(records, subscribers, book, state, timings).rate()


class _Chunk:
    """One call of :func:`rate_chunk`: the arrays of its steps."""

    def __init__(self, records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, state: BulkState,
                 timings: dict[str, float] | None):
        self.book = book
        self.tables = _tables(book)
        self.stages = _Stages(timings)
        self.records = _checked(conform(records, RECORD_SCHEMA)).rechunk()  # gathers over many chunks cost more
        self.all_subscribers = _subscription_table(subscribers)
        self.state = BulkState(
            conform(state.buckets, BUCKET_SCHEMA).unique("id", keep="last", maintain_order=True),
            conform(state.accumulators, ACCUMULATOR_SCHEMA).unique(["accumulator", "subscriber", "period"],
                                                                   keep="last", maintain_order=True))

    # ---- 1. order, subscribers, what cannot be rated

    def _order(self) -> None:
        subs, rank = self._subscriber_ranks()
        # a malformed start sorts after the well-formed ones of its subscriber, as in the reference
        micros = self.records["start"].dt.epoch("us")
        start = micros.fill_null((micros.max() or 0) + 1).to_numpy()
        order = rating_order(rank, start, self.records["id"], self.records)
        frame = self.records[order].with_columns(sub=pl.Series(rank[order]))
        self.subs = subs
        self.n_subs = subs.height
        known_sub = np.concatenate([subs["known"].to_numpy(), [False]])  # index -1: no subscriber
        sub = frame["sub"].to_numpy()
        self.malformed = frame["malformed"].is_not_null().to_numpy()
        self.unknown = ~self.malformed & ~known_sub[sub]
        self.candidate = ~self.malformed & ~self.unknown
        self.fallback = np.zeros(self.n_subs + 1, bool)  # index -1 (no subscriber) never used
        self.frame = frame
        self.sub = sub
        self.start = frame["start"].dt.epoch("us").fill_null(0).to_numpy()

    def _subscriber_ranks(self) -> tuple[pl.DataFrame, np.ndarray]:
        """The subscribers of the chunk, by id (known ones with their columns, and those no
        subscription is known for), and the rank of each record's subscriber among them (-1:
        none). One join of the records with the subscriptions, by id."""
        table = self.all_subscribers.with_row_index("at")
        at = self.records.select("subscriber").join(table.select(pl.col("id").alias("subscriber"), "at"),
                                                    on="subscriber", how="left", maintain_order="left")["at"]
        known = at.is_not_null().to_numpy()
        positions = at.to_numpy()[known].astype(np.int64)
        present = np.nonzero(np.bincount(positions, minlength=table.height))[0]  # in order of id
        dense = np.zeros(table.height, np.int64)
        dense[present] = np.arange(present.shape[0])
        inverse = dense[positions]
        known_subs = table[present].drop("at").with_columns(known=pl.lit(True))
        strangers = self.records["subscriber"].filter(pl.Series(~known)).drop_nulls().unique().sort()
        # the rank of a name among all of them: its place among its own kind plus the names of
        # the other kind before it (ids sort as text, as the reference sorts them)
        known_rank = np.arange(present.shape[0]) + strangers.search_sorted(known_subs["id"], side="left").to_numpy()
        stranger_rank = np.arange(strangers.len()) + known_subs["id"].search_sorted(strangers, side="left").to_numpy()
        unknown_subs = pl.DataFrame({"id": strangers}).with_columns(known=pl.lit(False))
        subs = pl.concat([known_subs.with_columns(rank=pl.Series(known_rank, dtype=pl.Int64)),
                          unknown_subs.with_columns(rank=pl.Series(stranger_rank, dtype=pl.Int64))],
                         how="diagonal_relaxed").sort("rank")
        subs = conform(subs, {**SUBSCRIBER_SCHEMA, "known": pl.Boolean, "rank": pl.Int64}).with_columns(
            pl.col("active_offerings").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
            pl.col("payers").fill_null(pl.lit([], dtype=pl.List(PAYER))))
        rank = np.full(self.records.height, -1, np.int64)
        rank[known] = known_rank[inverse.reshape(-1)]
        if strangers.len():
            named = ~known & self.records["subscriber"].is_not_null().to_numpy()
            rank[named] = stranger_rank[strangers.search_sorted(self.records["subscriber"].filter(pl.Series(named)),
                                                                side="left").to_numpy()]
        return subs, rank

    def _per_record(self, columns: list[str], table: pl.DataFrame | None = None) -> pl.DataFrame:
        """Subscriber columns (of ``table``, one row per subscriber, else of the subscribers)
        for each record of the chunk (nulls where it has no subscriber)."""
        own = (self.subs if table is None else table).select(columns)
        table = pl.concat([own, pl.DataFrame([pl.Series(c, [None], dtype=own.schema[c]) for c in columns])])
        return table[np.where(self.sub < 0, self.n_subs, self.sub)]

    # ---- 2. rule decisions

    def _facts(self) -> tuple[pl.DataFrame, FactColumns]:
        """The records' facts as the usage rule sets see them: the usage, ``now`` = its start,
        and the tests of the subscription's facts decided once per subscriber."""
        decided, tests = self._subscriber_tests(self.tables.usage.conditions(), "__usage_")
        frame = self.frame.with_columns(*tests.get_columns(), volume_scan=pl.Series(self.volume))
        columns: dict[str, pl.Expr] = {
            "usage.service": pl.col("service"), "usage.start": pl.col("start"), "usage.volume": pl.col("volume_scan"),
            "usage.unit": pl.col("unit"), "usage.type": pl.col("type"), "usage.roaming": pl.col("roaming"),
            "usage.country": pl.col("country"), "now": pl.col("start"),
        }
        return frame, FactColumns(columns, {"usage.volume": self.vd}, decided)

    def _decide(self) -> None:
        usage = self.tables.usage
        frame, facts = self._facts()
        masks = usage.masks(facts)
        evaluated = frame.lazy().with_columns(**masks).select(list(masks)).collect() if masks else pl.DataFrame()
        outcome = usage.decide({name: evaluated[name].to_numpy() for name in masks}, frame.height)
        self.acc_flags = outcome.accumulators
        self.chosen = np.where(self.candidate, outcome.chosen_version, -1)
        self.rule = np.where(self.chosen >= 0, outcome.chosen_rule, -1)
        np.logical_or.at(self.fallback, self.sub[self.candidate & outcome.needs_reference], True)
        self.reason_words = outcome.reason_words
        self.stages.done("conditions")

    # ---- 3. prices

    def _price(self) -> None:
        active = self.chosen >= 0
        self.rate0 = np.where(active, self.rule, 0).astype(np.int32)
        (ok, kind, p, v, minor, flat, tier_ptr, tier_up, tier_amount, currency) = self.tables.rate_arrays
        if len(self.tables.rates) == 0:
            self.amount0 = np.zeros(self.frame.height, np.int64)
            self.amount0_fits = np.ones(self.frame.height, bool)
        else:
            self.amount0, self.amount0_fits = _compiled(_price_all)(active, self.rate0, self.volume, self.vd,
                                                                    self.unit, ok, self.r_per, self.conv_num,
                                                                    self.conv_den, kind, p, v, minor, flat, tier_ptr,
                                                                    tier_up, tier_amount)
        self.stages.done("tiers")

    # ---- 4. split billing

    def _payers(self) -> None:
        """The payer plan of each record's charge, and why it cannot be billed when it cannot."""
        split = self.tables.split
        roles = pl.col("payers").list.eval(pl.element().struct.field("role"))
        accounts = pl.col("payers").list.eval(pl.element().struct.field("account"))
        plan_roles = sorted(split.roles())
        split_ids = sorted(self.subs["split_billing"].drop_nulls().unique().to_list())

        def account_of(role: str) -> pl.Expr:  # the last one given, as a dict of payers keeps it
            return pl.col("payers").list.eval(pl.element().filter(pl.element().struct.field("role") == role)
                                              .struct.field("account")).list.last()

        # what only depends on the subscription, once per subscriber: the payer when it names no
        # split billing (rating.DEFAULT_PAYER, or its one billing account), and its roles' accounts
        single = accounts.list.n_unique() == 1
        self.subs = self.subs.with_columns(
            default_role=pl.when(roles.list.contains("payer")).then(pl.lit("payer"))
            .when(single).then(roles.list.first()).otherwise(pl.lit("payer")),
            default_account=pl.when(roles.list.contains("payer")).then(account_of("payer"))
            .when(single).then(accounts.list.first()),
            split_code=pl.col("split_billing").replace_strict({s: i for i, s in enumerate(split_ids)}, default=-1,
                                                              return_dtype=pl.Int32),
            **{f"has_role_{i}": roles.list.contains(r) for i, r in enumerate(plan_roles)},
            **{f"account_{i}": account_of(r) for i, r in enumerate(plan_roles)})
        self.subs = self.subs.with_columns(default_ok=pl.col("default_account").is_not_null())
        self.role_index = {r: i for i, r in enumerate(plan_roles)}
        decided, tests = self._subscriber_tests(split.conditions(), "__split_")
        per_subscriber = ["split_code", "default_ok"] + [f"has_role_{i}" for i in range(len(plan_roles))]
        active = self.chosen >= 0
        rates = len(self.tables.rates) > 0
        amount_scan = np.zeros(self.frame.height, np.int64)
        if rates:
            factor = _POW10[SCAN_DIGITS - self.tables.rate_arrays[4][self.rate0]]
            amount_scan = np.where(active & self.amount0_fits, self.amount0 * factor, 0)
        frame = self.frame.select("service", "start", "type").with_columns(
            *self._per_record(per_subscriber).get_columns(), *tests.get_columns(),
            charge_currency=_pick(self.tables.currencies, self.tables.rate_arrays[9][self.rate0] if rates
                                  else self.rate0, active),
            charge_amount=pl.Series(amount_scan))
        non_empty = lambda c: pl.when(pl.col(c) != "").then(pl.col(c))  # noqa: E731 - "if value" in rating
        facts = FactColumns({
            "now": pl.col("start"), "charge.type": pl.lit("usage"), "charge.service": pl.col("service"),
            "charge.usageType": non_empty("type"), "charge.currency": pl.col("charge_currency"),
            "charge.amount": pl.col("charge_amount")}, {"charge.amount": SCAN_DIGITS}, decided)
        plan = split.plan_expr({s: pl.col("split_code") == i for i, s in enumerate(split_ids)}, facts)
        # the first role of the plan without a billing account: -2 the default one, else its index
        missing: Any = pl.when(pl.col("plan") == SUBSCRIBER_DEFAULT).then(
            pl.when(~pl.col("default_ok")).then(pl.lit(-2, pl.Int32)))
        for p, payer_plan in enumerate(split.plans):
            first: Any = None
            for role, _ in payer_plan.parts:
                lacks, index = ~pl.col(f"has_role_{self.role_index[role]}"), pl.lit(self.role_index[role], pl.Int32)
                first = pl.when(lacks).then(index) if first is None else first.when(lacks).then(index)
            missing = missing.when(pl.col("plan") == p).then(first.otherwise(pl.lit(None, pl.Int32)))
        outcome = frame.lazy().with_columns(plan=plan.fill_null(UNAVAILABLE)).select(
            "plan", missing=missing.otherwise(pl.lit(None, pl.Int32)),
            amount_dependent=pl.col("split_code").is_in([split_ids.index(s) for s in split.amount_dependent
                                                        if s in split_ids]),
            currency_dependent=pl.col("split_code").is_in([split_ids.index(s) for s in split.currency_dependent
                                                          if s in split_ids])).collect()
        self.plan = outcome["plan"].to_numpy()
        missing_role = outcome["missing"].fill_null(-1).to_numpy()
        self.unassigned = (self.plan == NO_PAYER) | (self.plan == UNAVAILABLE) | (missing_role != -1)
        self.unassigned_code, self.unassigned_label = self._unassigned_reasons(missing_role, plan_roles)
        self.amount_dependent = outcome["amount_dependent"].fill_null(False).to_numpy()
        self.currency_dependent = outcome["currency_dependent"].fill_null(False).to_numpy()
        self.stages.done("split decisions")

    def _unassigned_reasons(self, missing_role: np.ndarray, plan_roles: list[str]) -> tuple[pl.Series, pl.Series]:
        """Code and label of the records whose charge cannot be billed (null for the others)."""
        rows = np.nonzero(self.unassigned)[0]
        codes = pl.repeat(None, self.frame.height, dtype=pl.Utf8, eager=True)
        labels = codes.clone()
        if rows.shape[0]:
            subs = self.subs[self.sub[rows]]
            found = []
            for plan, missing, split, default, subscriber in zip(
                    self.plan[rows], missing_role[rows], subs["split_billing"].to_list(),
                    subs["default_role"].to_list(), subs["id"].to_list()):
                if plan == NO_PAYER:
                    found.append(("noPayer", f"split billing {split} names no payer for this charge"))
                elif plan == UNAVAILABLE:
                    found.append(("noSplitBilling", f"no version of split billing rule set '{split}' is in force "
                                                    f"at the start of this usage"))
                else:
                    role = default if missing == -2 else plan_roles[missing]
                    found.append(("noBillingAccount",
                                  f"no billing account for the payer role '{role}' of subscription {subscriber}"))
            codes = codes.scatter(rows, pl.Series([c for c, _ in found], dtype=pl.Utf8))
            labels = labels.scatter(rows, pl.Series([label for _, label in found], dtype=pl.Utf8))
        return codes, labels

    def _subscriber_tests(self, conditions: Sequence[Any], prefix: str) -> tuple[dict[tuple[Any, ...], pl.Expr],
                                                                                pl.DataFrame]:
        """The tests of these conditions that only look at the subscription (party,
        inventory, its offering), decided once per subscriber; and, per record, their columns."""
        tests = {test_key(t): t for c in conditions for t in tests_of(c) if t.attribute in _SUBSCRIPTION_FACTS}
        non_empty = lambda c: pl.when(pl.col(c) != "").then(pl.col(c))  # noqa: E731 - "if value" in rating
        columns = {attribute: pl.col(column) if column == "active_offerings" else non_empty(column)
                   for attribute, column in _SUBSCRIPTION_FACTS.items()}
        names = {key: f"{prefix}{k}" for k, key in enumerate(tests)}
        per_subscriber = self.subs.select(**{names[key]: condition_expr(test, FactColumns(columns))
                                             for key, test in tests.items()}) if tests else pl.DataFrame()
        per_record = self._per_record(list(names.values()), per_subscriber).fill_null(False) if tests \
            else pl.DataFrame()
        return {key: pl.col(name) for key, name in names.items()}, per_record


    # ---- 5. balances and totals, then the scan

    def _buckets(self) -> None:
        names = self.subs.select(pl.col("id").alias("subscriber"), "rank")
        buckets = conform(self.state.buckets, BUCKET_SCHEMA).unique("id", keep="last", maintain_order=True)
        mine = buckets.join(names, on="subscriber", how="inner")
        # Bucket.order: precedence, specific before general, the first to expire, id
        far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
        mine = mine.with_columns(general=pl.col("services").list.len().fill_null(0) == 0,
                                 expires=pl.col("valid_to").fill_null(far)) \
            .sort(["rank", "precedence", "general", "expires", "id"])
        self.chunk_buckets = mine
        nb = mine.height
        bucket_sub = mine["rank"].to_numpy()
        self.sub_bucket_ptr = np.searchsorted(bucket_sub, np.arange(self.n_subs + 1)).astype(np.int64)
        self.sub_buckets = np.arange(nb, dtype=np.int64)
        units = mine["unit"].to_list()
        self.b_money = np.array([u in ISO_4217 for u in units], dtype=bool)
        # one code per unit in play (currencies, the rates' units, the buckets', the records'), and
        # how each converts into each other (units.convert)
        unit_codes: dict[str, int] = {}
        record_units = self.frame["unit"].drop_nulls().unique().to_list()
        for u in self.tables.currencies + self.tables.pers + units + sorted(x for x in record_units if x):
            unit_codes.setdefault(u, len(unit_codes))
        self.b_unit = np.array([unit_codes[u] for u in units], dtype=np.int32)
        # "record.unit or rate.per": an empty unit is no unit
        self.unit = self.frame["unit"].replace_strict({u: c for u, c in unit_codes.items() if u}, default=-1,
                                                      return_dtype=pl.Int32).fill_null(-1).to_numpy()
        self.r_per = np.array([unit_codes[u] for u in self.tables.pers] or [0], dtype=np.int32)
        self.unit_names = list(unit_codes)
        self.conv_num, self.conv_den = _conversions(self.unit_names)
        self._volume_digits(mine)
        # money in millionths of the currency, volumes with the chunk's decimals
        remaining_money, money_fits = scaled_integers(mine["remaining"], SCAN_DIGITS)
        remaining_units, units_fit = scaled_integers(mine["remaining"], self.vd)
        self.b_remaining = np.where(self.b_money, remaining_money, remaining_units)
        remaining_fits = np.where(self.b_money, money_fits, units_fit)
        self.b_floor, floor_fits = scaled_integers(mine["floor"], SCAN_DIGITS)
        self.b_has_floor = mine["floor"].is_not_null().to_numpy()
        lowest, highest = np.iinfo(np.int64).min, np.iinfo(np.int64).max
        self.b_from = mine["valid_from"].dt.epoch("us").fill_null(lowest).to_numpy()
        self.b_to = mine["valid_to"].dt.epoch("us").fill_null(highest).to_numpy()
        services = mine["services"].fill_null([])
        service_codes: dict[str, int] = {}
        for name in services.explode().drop_nulls().unique().to_list():
            service_codes[name] = len(service_codes)
        self.b_service_ptr = np.concatenate([[0], np.cumsum(services.list.len().to_numpy())]).astype(np.int64)
        flat = services.explode().drop_nulls()
        self.b_services = flat.replace_strict(service_codes, return_dtype=pl.Int32).to_numpy() if flat.len() \
            else np.zeros(0, np.int32)
        self.service = self.frame["service"].replace_strict(service_codes, default=-1, return_dtype=pl.Int32) \
            .fill_null(-1).to_numpy()
        np.logical_or.at(self.fallback, bucket_sub[~(remaining_fits & floor_fits)], True)

    def _volume_digits(self, buckets: pl.DataFrame) -> None:
        """The decimals of volumes in this chunk's scan: 6, or 12 when conversions in play do
        not come out in decimals (seconds to minutes: ``units.convert`` rounds them to 12) or
        when the values need them — 12 decimals leave int64 for volumes above 9.2 million."""
        in_play = sorted(set(self.unit[self.unit >= 0]) | set(self.r_per) | set(self.b_unit[~self.b_money]))
        denominators = [int(self.conv_den[a, b]) for a in in_play for b in in_play if self.conv_num[a, b]]
        uneven = any(10**12 % d for d in denominators)  # a factor other than 2 and 5: 1/60 of a minute
        subs = self.subs.select(pl.col("id").alias("subscriber"))
        totals = self.state.accumulators.join(subs, on="subscriber", how="semi")["volume"]
        values = [self.frame["volume"].filter(pl.Series(self.candidate)),
                  buckets["remaining"].filter(pl.Series(~self.b_money)), totals]
        misfits = {6: sum(int((~scaled_integers(v, 6)[1]).sum()) for v in values)} if not uneven else {6: 1}
        if misfits[6]:
            misfits[12] = sum(int((~scaled_integers(v, 12)[1]).sum()) for v in values)
        self.vd = 12 if uneven or (misfits[6] and misfits[12] < misfits[6]) else 6
        self.volume, volume_fits = scaled_integers(self.frame["volume"], self.vd)
        np.logical_or.at(self.fallback, self.sub[self.candidate & ~volume_fits], True)

    def _accumulator_pairs(self) -> None:
        """Which accumulator totals (slots) each record counts for, in rule set order, and
        the totals of those slots from the state."""
        tables = self.tables
        offsets = np.array(tables.def_offsets + [0], dtype=np.int64)
        rows_parts, defs_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for j, flags in enumerate(self.acc_flags):
            rows = np.nonzero(flags & (self.chosen >= 0))[0]
            rows_parts.append(rows)
            defs_parts.append(offsets[self.chosen[rows]] + j)
        rows, defs = np.concatenate(rows_parts), np.concatenate(defs_parts)
        order = np.lexsort((defs, rows))
        rows, defs = rows[order], defs[order]
        # the period of each pair in its rule set's zone, as a number: yyyymm or yyyymmdd
        period = np.zeros(rows.shape[0], np.int64)
        start = self.frame["start"]
        for (zone, kind), members in _groups((d.zone, d.period) for d in tables.defs).items():
            mask = np.isin(defs, members)
            if mask.any():
                local = start.gather(rows[mask]).dt.convert_time_zone(zone)
                month = local.dt.year().to_numpy().astype(np.int64) * 100 + local.dt.month().to_numpy()
                period[mask] = month if kind == "month" else month * 100 + local.dt.day().to_numpy()
        name_of_def = np.array([tables.names.index(d.name) for d in tables.defs] + [0], dtype=np.int64)
        pair_keys = _accumulator_keys(name_of_def[defs], self.sub[rows], period, self.n_subs)
        slot_keys, first_pair, acc_slot = np.unique(pair_keys, return_index=True, return_inverse=True)
        n_slots = slot_keys.shape[0]
        slot_name, slot_sub, slot_period = name_of_def[defs[first_pair]], self.sub[rows[first_pair]], period[first_pair]
        # the totals so far of the slots, and which state rows they replace
        totals = self.state.accumulators.join(
            self.subs.select(pl.col("id").alias("subscriber"), pl.col("rank").alias("sub")), on="subscriber",
            how="left", maintain_order="left")
        state_keys = _accumulator_keys(
            totals["accumulator"].replace_strict({n: i for i, n in enumerate(tables.names)}, default=-1,
                                                 return_dtype=pl.Int64).to_numpy(),
            totals["sub"].fill_null(-1).to_numpy(), _period_numbers(totals["period"]), self.n_subs)
        known = (totals["sub"].is_not_null().to_numpy()) & (state_keys >= 0)
        at = np.searchsorted(slot_keys, state_keys)
        matched = known & (at < n_slots) & (slot_keys[np.minimum(at, max(n_slots - 1, 0))] == state_keys) \
            if n_slots else np.zeros(totals.height, bool)
        state_row_of_slot = np.full(n_slots, -1, np.int64)
        state_row_of_slot[at[matched]] = np.nonzero(matched)[0]
        self.state_slot_rows = matched  # state rows that the slots carry on
        existing = state_row_of_slot >= 0
        values = ("volume", "amount", "reached")
        picked = totals.select(values)[np.where(existing, state_row_of_slot, 0)] if totals.height else \
            pl.DataFrame([pl.Series(c, [None] * n_slots, dtype=ACCUMULATOR_SCHEMA[c]) for c in values])
        names = pl.Series(tables.names + [None], dtype=pl.Utf8)
        self.slots = pl.DataFrame({
            "accumulator": names.gather(slot_name),
            "subscriber": self.subs["id"].gather(slot_sub),
            "period": _period_texts(slot_period),
            "volume": picked["volume"], "amount": picked["amount"], "reached": picked["reached"],
        }).with_columns(pl.when(pl.Series(existing)).then(pl.col(c)) for c in ("volume", "amount", "reached"))
        self.slot_sub, self.slot_name = slot_sub, slot_name
        self.acc_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=self.frame.height))]).astype(np.int64)
        self.acc_def, self.acc_slot, self.pair_row = defs.astype(np.int64), acc_slot.astype(np.int64), rows
        self._reached_matrix()
        self.s_volume, volume_fits = scaled_integers(self.slots["volume"], self.vd)
        self.s_amount, amount_fits = scaled_integers(self.slots["amount"], SCAN_DIGITS)
        np.logical_or.at(self.fallback, slot_sub[~(volume_fits & amount_fits)], True)

    def _reached_matrix(self) -> None:
        """The thresholds each slot has reached, as ranks (the order they were reached in)
        in a matrix of one column per threshold id of its accumulator."""
        tables = self.tables
        ids: list[list[str]] = [[] for _ in tables.names]  # per accumulator, its threshold ids by column
        for d, threshold in tables.thresholds:
            mine = ids[tables.names.index(tables.defs[d].name)]
            if threshold.id not in mine:
                mine.append(threshold.id)
        reached = self.slots.select(pl.int_range(pl.len()).alias("slot"), "reached").explode("reached") \
            .drop_nulls("reached").with_columns(rank=pl.int_range(pl.len()).over("slot"))
        slots, thresholds = reached["slot"].to_numpy(), reached["reached"].to_list()
        columns = np.zeros(len(thresholds), np.int64)
        for k, (slot, threshold_id) in enumerate(zip(slots, thresholds)):
            mine = ids[self.slot_name[slot]]
            if threshold_id not in mine:  # reached before, by a threshold no version defines now
                mine.append(threshold_id)
            columns[k] = mine.index(threshold_id)
        self.threshold_ids = ids
        self.threshold_columns = {(tables.names[i], t): c for i, mine in enumerate(ids) for c, t in enumerate(mine)}
        n_slots = self.slots.height
        self.s_rank = np.full((n_slots, max([1] + [len(m) for m in ids])), -1, np.int64)
        self.s_rank[slots, columns] = reached["rank"].to_numpy()
        self.s_count = self.slots["reached"].list.len().fill_null(0).to_numpy().astype(np.int64)
        # the same id reached twice cannot be told apart by rank: leave such a subscriber to the reference
        twice = np.bincount(slots * self.s_rank.shape[1] + columns, minlength=n_slots * self.s_rank.shape[1]) > 1
        np.logical_or.at(self.fallback, self.slot_sub[np.nonzero(twice)[0] // self.s_rank.shape[1]], True)

    def _scan(self) -> None:
        self._accumulator_pairs()
        self.stages.done("state")
        def_measure, def_ptr, column, level, action, threshold_rate = self.tables.threshold_arrays(
            self.threshold_columns, self.vd)
        (ok, kind, p, v, minor, flat, tier_ptr, tier_up, tier_amount, currency) = self.tables.rate_arrays
        active = self.chosen >= 0
        sub = np.where(self.sub < 0, self.n_subs, self.sub)
        self.out = _compiled(_scan)(active, sub, self.start, self.service, self.unit, self.volume, self.vd, self.rate0,
                         self.amount0,
                         self.amount0_fits, self.acc_ptr, self.acc_def, self.acc_slot, self.unassigned,
                         self.amount_dependent, self.currency_dependent, self.fallback,
                         self.sub_bucket_ptr, self.sub_buckets, self.b_money, self.b_unit, self.b_remaining,
                         self.b_floor, self.b_has_floor, self.b_from, self.b_to, self.b_service_ptr, self.b_services,
                         self.s_volume, self.s_amount, self.s_rank, self.s_count,
                         def_measure, def_ptr, column, level, action, threshold_rate, self.conv_num, self.conv_den,
                         ok, self.r_per, kind, p, v, minor, flat, tier_ptr, tier_up, tier_amount, currency,
                         self.tables.max_amounts)
        self.stages.done("scan")

    # ---- 6. charges per payer, the rated frame, the new state

    def _charges(self, billed: np.ndarray, payable: np.ndarray, minor: np.ndarray) -> pl.Series:
        """The billed part of each record per payer (largest remainder, ties to the earliest
        part, as ``money.allocate``), as the ``charges`` list column."""
        subs = self.subs
        n = self.frame.height
        rows_parts, amount_parts = [], []
        role_parts: list[pl.Series] = []
        account_parts: list[pl.Series] = []
        default_rows = np.nonzero(billed & (self.plan == SUBSCRIBER_DEFAULT))[0]
        rows_parts.append(default_rows)
        role_parts.append(subs["default_role"].gather(self.sub[default_rows]))
        account_parts.append(subs["default_account"].gather(self.sub[default_rows]))
        amount_parts.append(payable[default_rows])
        for p, payer_plan in enumerate(self.tables.split.plans):
            rows = np.nonzero(billed & (self.plan == p))[0]
            if rows.shape[0] == 0:
                continue
            shares = _allocate(payable[rows], [w for _, w in payer_plan.parts])
            for j, (role, _) in enumerate(payer_plan.parts):
                rows_parts.append(rows)
                role_parts.append(pl.Series([role]).gather(np.zeros(rows.shape[0], np.int64)))
                account_parts.append(subs[f"account_{self.role_index[role]}"].gather(self.sub[rows]))
                amount_parts.append(shares[:, j])
        rows = np.concatenate(rows_parts)
        order = np.argsort(rows, kind="stable")  # parts stay in plan order within a record
        rows = rows[order]
        minor_units = np.concatenate(amount_parts).astype(np.int64)[order]
        values = pl.DataFrame({"payer": pl.concat(role_parts).gather(order),
                               "billing_account": pl.concat(account_parts).gather(order),
                               "amount": decimal_column("amount", minor_units * _POW10[MONEY_DIGITS - minor[rows]],
                                                        MONEY_DIGITS, MONEY)})
        return _list_column("charges", n, rows, values, CHARGE)

    def _reasons(self, category: np.ndarray, blocked_by: np.ndarray, amount: np.ndarray, minor: np.ndarray,
                 final: np.ndarray) -> tuple[pl.Series, pl.Series, pl.Series]:
        """``reason_code``, ``reason_label`` (the first reason) and ``reasons`` of every
        record, worked out for the rejected ones only."""
        tables, n = self.tables, category.shape[0]
        rows = np.nonzero(category != _RATED)[0]
        kind = category[rows]
        # a record no rule set rates: the reasons the rule sets give, per distinct combination
        no_rate = kind == _NO_RATE
        signature = np.zeros(rows.shape[0], np.int64)
        signature_lists: list[list[dict[str, str]]] = [[]]
        if no_rate.any():
            distinct, inverse = np.unique(self.reason_words[rows[no_rate]], axis=0, return_inverse=True)
            signature_lists = [tables.usage.reasons([int(w) for w in row]) for row in distinct]
            signature[no_rate] = inverse.reshape(-1)
        first = [r[0] if r else {} for r in signature_lists]
        blocked = kind == _BLOCKED
        thresholds = tables.thresholds
        currency = _pick(tables.currencies, tables.rate_arrays[9][final[rows]] if len(tables.rates) else final[rows],
                         (kind == _INSUFFICIENT) | (kind == _TOO_LARGE))
        parts = pl.DataFrame({
            "category": kind,
            "malformed": self.frame["malformed"].gather(rows),
            "subscriber": self.frame["subscriber"].gather(rows),
            "unassigned_code": self.unassigned_code.gather(rows),
            "unassigned_label": self.unassigned_label.gather(rows),
            "signature_code": _pick([f.get("code") for f in first], signature, no_rate),
            "signature_label": _pick([f.get("label") for f in first], signature, no_rate),
            "prerequisite": _pick([f.get("prerequisite") for f in first], signature, no_rate),
            "signature_list": _pick(signature_lists, signature, no_rate, pl.List(REASON)),
            "several": _pick([len(r) > 1 for r in signature_lists], signature, no_rate, pl.Boolean),
            "blocked_code": _pick([t.reason.code if t.reason else None for _, t in thresholds], blocked_by[rows],
                                  blocked),
            "blocked_label": _pick([t.reason.label if t.reason else None for _, t in thresholds], blocked_by[rows],
                                   blocked),
            "threshold": _pick([f"{tables.defs[d].name}/{t.id}" for d, t in thresholds], blocked_by[rows], blocked),
            "mismatch_label": self._mismatch_labels(rows[kind == _MISMATCH], final, rows),
            "insufficient_label": _amount_labels("the prepaid balance cannot cover {} {}", kind == _INSUFFICIENT,
                                                 amount[rows], minor[rows], currency),
            "too_large_label": _amount_labels(f"the charge {{}} {{}} is beyond what one record may cost "
                                              f"({MAX_AMOUNT:,})", kind == _TOO_LARGE, amount[rows], minor[rows],
                                              currency),
        })
        is_ = {c: pl.col("category") == c for c in (_MALFORMED, _UNKNOWN, _NO_RATE, _BLOCKED, _INSUFFICIENT,
                                                     _UNASSIGNED, _MISMATCH, _TOO_LARGE)}
        code = pl.when(is_[_MALFORMED]).then(pl.lit("malformed")) \
            .when(is_[_UNKNOWN]).then(pl.lit("unknownSubscriber")) \
            .when(is_[_NO_RATE]).then(pl.col("signature_code")) \
            .when(is_[_BLOCKED]).then(pl.col("blocked_code")) \
            .when(is_[_INSUFFICIENT]).then(pl.lit("insufficientBalance")) \
            .when(is_[_MISMATCH]).then(pl.lit("unitMismatch")) \
            .when(is_[_TOO_LARGE]).then(pl.lit("amountTooLarge")) \
            .when(is_[_UNASSIGNED]).then(pl.col("unassigned_code"))
        label = pl.when(is_[_MALFORMED]).then(pl.col("malformed")) \
            .when(is_[_UNKNOWN]).then(pl.format("no subscription '{}' is known to rating", pl.col("subscriber"))) \
            .when(is_[_NO_RATE]).then(pl.col("signature_label")) \
            .when(is_[_BLOCKED]).then(pl.col("blocked_label")) \
            .when(is_[_INSUFFICIENT]).then(pl.col("insufficient_label")) \
            .when(is_[_MISMATCH]).then(pl.col("mismatch_label")) \
            .when(is_[_TOO_LARGE]).then(pl.col("too_large_label")) \
            .when(is_[_UNASSIGNED]).then(pl.col("unassigned_label"))
        one = pl.concat_list(pl.struct(code=pl.col("code"), label=pl.col("label"), prerequisite=pl.col("prerequisite"),
                                       threshold=pl.col("threshold")))
        decided = parts.with_columns(code=code, label=label).select(
            "code", "label", reasons=pl.when(pl.col("several")).then(pl.col("signature_list")).otherwise(one))
        long = decided.select(pl.Series("row", rows), "reasons").explode("reasons")
        nothing = pl.repeat(None, n, dtype=pl.Utf8, eager=True)
        return (nothing.scatter(rows, decided["code"]).alias("reason_code"),
                nothing.scatter(rows, decided["label"]).alias("reason_label"),
                _list_column("reasons", n, long["row"].to_numpy(), long["reasons"].struct.unnest(), REASON))

    def _assemble(self) -> pl.DataFrame:
        """The rated frame (:data:`RATED_SCHEMA`) from the scan's arrays."""
        (status, final_rate, blocked_by, rated_volume, rated_digits, amount, prepaid, take_row, take_bucket, take_qty,
         event_row, event_slot, event_threshold, event_value) = self.out
        tables, frame, n = self.tables, self.frame, self.frame.height
        has_rates = len(tables.rates) > 0
        final = np.where(final_rate >= 0, final_rate, 0)
        minor = tables.rate_arrays[4][final] if has_rates else np.zeros(n, np.int64)
        scanned = status != _NOT_SCANNED  # blocked, insufficient, unassigned and rated records name their rule
        rated = status == _RATED
        category = np.full(n, _NO_RATE, np.int8)
        category[scanned] = status[scanned]
        category[self.malformed] = _MALFORMED
        category[self.unknown] = _UNKNOWN
        reason_code, reason_label, reasons = self._reasons(category, blocked_by, amount, minor, final)
        thresholds = tables.thresholds
        # what was taken from balances, and the thresholds reached
        takes = pl.DataFrame({"bucket": self.chunk_buckets["id"].gather(take_bucket),
                              "taken": _decimals("taken", take_qty, np.where(self.b_money[take_bucket], SCAN_DIGITS,
                                                                             self.vd))})
        events = pl.DataFrame({
            "kind": pl.Series(["thresholdReached"], dtype=pl.Utf8).gather(np.zeros(event_row.shape[0], np.int64)),
            "accumulator": pl.Series([tables.defs[d].name for d, _ in thresholds], dtype=pl.Utf8)
            .gather(event_threshold),
            "threshold": pl.Series([t.id for _, t in thresholds], dtype=pl.Utf8).gather(event_threshold),
            "action": pl.Series([t.action for _, t in thresholds], dtype=pl.Utf8).gather(event_threshold),
            "subscriber": frame["subscriber"].gather(event_row),
            "period": self.slots["period"].gather(event_slot),
            "value": _decimals("value", event_value, np.array(
                [self.vd if tables.defs[d].measure == "volume" else SCAN_DIGITS for d, _ in thresholds],
                dtype=np.int64)[event_threshold] if event_threshold.shape[0] else np.zeros(0, np.int64)),
            "record": frame["id"].gather(event_row),
        })
        rules = tables.usage.rules
        rule_at = np.where(scanned, self.rule, -1)
        money = _POW10[MONEY_DIGITS - minor]
        billed = rated & (amount - prepaid > 0) & ~self.fallback[np.where(self.sub < 0, self.n_subs, self.sub)]
        return frame.select([c for c in RATED_SCHEMA if c in RECORD_SCHEMA]).with_columns(
            _pick(["rated", "rejected"], np.where(rated, 0, 1), np.ones(n, bool)).alias("status"),
            _pick([tables.usage.versions[r.version].id for r in rules], rule_at, scanned).alias("rule_set"),
            _pick([r.compiled.source.id for r in rules], rule_at, scanned).alias("rule"),
            _pick([r.compiled.source.provisioning_id for r in rules], rule_at, scanned).alias("provisioning_id"),
            _pick(tables.currencies, tables.rate_arrays[9][final] if has_rates else final, scanned).alias("currency"),
            _decimals("rated_volume", np.where(rated, rated_volume, 0), rated_digits),
            decimal_column("amount", np.where(rated, amount, 0) * money, MONEY_DIGITS, MONEY),
            decimal_column("prepaid", np.where(rated, prepaid, 0) * money, MONEY_DIGITS, MONEY),
            self._charges(billed, amount - prepaid, minor),
            _list_column("buckets", n, take_row, takes, TAKE),
            _list_column("events", n, event_row, events, EVENT),
            reasons, reason_code, reason_label,
            pl.Series(["bulk"], dtype=pl.Utf8).gather(np.zeros(n, np.int64)).alias("rated_by"),
        )

    def _mismatch_labels(self, rows: np.ndarray, final: np.ndarray, within: np.ndarray) -> pl.Series:
        """"the usage is in GB and the rate is per event" for the record ``rows``, placed
        among the records ``within`` (null for the others)."""
        labels = pl.repeat(None, within.shape[0], dtype=pl.Utf8, eager=True)
        if rows.shape[0]:
            per = [self.tables.pers[r] for r in final[rows]]
            units = [self.unit_names[u] if u >= 0 else p for u, p in zip(self.unit[rows], per)]
            labels = labels.scatter(np.searchsorted(within, rows), pl.Series(
                [f"the usage is in {u} and the rate is per {p}" for u, p in zip(units, per)], dtype=pl.Utf8))
        return labels

    def _new_state(self) -> BulkState:
        """The balances and totals after the scan, of the subscribers it rated (those of the
        reference come back from it; the others go through untouched)."""
        buckets = self.chunk_buckets
        kept = ~self.fallback[buckets["rank"].to_numpy()]
        remaining = _decimals("remaining", self.b_remaining, np.where(self.b_money, SCAN_DIGITS, self.vd))
        new_buckets = buckets.with_columns(remaining) \
            .filter(pl.Series(kept)).select(list(BUCKET_SCHEMA))
        n_slots = self.slots.height
        # a total only rejected records counted for is not created: nothing was added to it
        counted = np.zeros(n_slots, bool)
        counted[self.acc_slot[self.out[0][self.pair_row] == _RATED]] = True
        kept_slots = ~self.fallback[self.slot_sub] & (counted | self.slots["volume"].is_not_null().to_numpy())
        slots, columns = np.nonzero(self.s_rank >= 0)
        order = np.lexsort((self.s_rank[slots, columns], slots))
        slots, columns = slots[order], columns[order]
        flat = [t for mine in self.threshold_ids for t in mine]
        start = np.concatenate([[0], np.cumsum([len(m) for m in self.threshold_ids])]).astype(np.int64)
        reached_ids = pl.Series(flat, dtype=pl.Utf8).gather(start[self.slot_name[slots]] + columns)
        totals = self.slots.select("accumulator", "subscriber", "period").with_columns(
            decimal_column("volume", self.s_volume, self.vd, VOLUME),
            decimal_column("amount", self.s_amount, SCAN_DIGITS, VOLUME),
            _list_of("reached", n_slots, slots, reached_ids)).filter(pl.Series(kept_slots))
        return BulkState(new_buckets, totals)

    def _reference(self, fallback_subs: np.ndarray) -> tuple[pl.DataFrame, BulkState, np.ndarray]:
        """The records of the subscribers the bulk path leaves to the reference, rated by it."""
        names = self.subs["id"].gather(fallback_subs)
        rows = np.nonzero(self.candidate & np.isin(self.sub, fallback_subs))[0]
        records = usage_records(self.frame[rows])
        subscribers = subscribers_of(self.all_subscribers.filter(pl.col("id").is_in(names.implode())))
        state = self.state.of_subscribers(names)
        try:
            results, new_state = rate_records(records, subscribers, self.book, state.to_rating_state())
            frames = [rated_frame(results)]
            states = [BulkState.from_rating_state(new_state)]
        except Exception:  # noqa: BLE001 - one subscriber's failure must not lose the others
            frames, states = [], []
            for name in names.to_list():
                mine = [r for r in records if r.subscriber == name]
                own_state = self.state.of_subscribers(pl.Series([name]))
                try:
                    results, new_state = rate_records(mine, subscribers, self.book, own_state.to_rating_state())
                    frames.append(rated_frame(results))
                    states.append(BulkState.from_rating_state(new_state))
                except Exception as exc:  # noqa: BLE001 - reported on each record
                    frames.append(rated_frame([RatedUsage(r, "rejected", ({"code": "ratingError", "label": str(exc)},))
                                               for r in mine]))
                    states.append(own_state)
        state_out = BulkState(pl.concat([s.buckets for s in states]), pl.concat([s.accumulators for s in states]))
        return pl.concat(frames), state_out, rows

    def rate(self) -> tuple[pl.DataFrame, BulkState]:
        self._order()
        self.stages.done("order")
        self._buckets()
        self._decide()
        self._price()
        self._payers()
        self._scan()
        out = self._assemble()
        self.stages.done("assemble")
        new_state = self._new_state()
        fallback_subs = np.nonzero(self.fallback[:self.n_subs])[0]
        if fallback_subs.shape[0]:
            reference_frame, reference_state, rows = self._reference(fallback_subs)
            position = np.arange(out.height)
            keep = np.ones(out.height, bool)
            keep[rows] = False
            out = pl.concat([out.with_columns(at=pl.Series(position)).filter(pl.Series(keep)),
                             reference_frame.with_columns(at=pl.Series(rows))]).sort("at").drop("at")
            new_state = BulkState(pl.concat([new_state.buckets, reference_state.buckets]),
                                  pl.concat([new_state.accumulators, reference_state.accumulators]))
            self.stages.done("reference")
        # the state of subscribers this chunk did not touch goes through unchanged
        buckets = conform(self.state.buckets, BUCKET_SCHEMA)
        totals = conform(self.state.accumulators, ACCUMULATOR_SCHEMA)
        untouched_buckets = buckets.filter(~pl.col("id").is_in(self.chunk_buckets["id"].implode()))
        left_to_reference = self.subs["id"].gather(fallback_subs)
        untouched_totals = totals.filter(~pl.Series(self.state_slot_rows)
                                         & ~pl.col("subscriber").is_in(left_to_reference.implode()))
        state = BulkState(pl.concat([untouched_buckets, new_state.buckets]),
                          pl.concat([untouched_totals, new_state.accumulators]))
        self.stages.done("state out")
        return out, state


def _checked(records: pl.DataFrame) -> pl.DataFrame:
    """The records with ``malformed`` set where a frame built elsewhere left a value missing
    (the converters and the file readers say why themselves, with the reference's words)."""
    problem = pl.coalesce(
        pl.col("malformed"),
        pl.when(pl.col("start").is_null()).then(pl.lit("the usage start has no time zone")),
        pl.when(pl.col("volume").is_null() | (pl.col("volume") < 0))
        .then(pl.format("the volume must be a number of at least 0, got {}", pl.col("volume"))),
        pl.when(pl.col("volume") > MAX_VOLUME)
        .then(pl.format("the volume {} is beyond what one record can hold", pl.col("volume"))),
        pl.when(pl.col("service").is_null() | (pl.col("service") == ""))
        .then(pl.lit("the usage service must be a non-empty text")))
    return records.with_columns(malformed=problem)


def _conversions(units: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``numerator[a, b] / denominator[a, b]``: a volume in ``units[a]`` expressed in
    ``units[b]`` (0 / 0 when they do not convert), read off :func:`units.convert` itself."""
    k = len(units)
    numerator, denominator = np.zeros((max(k, 1), max(k, 1)), np.int64), np.ones((max(k, 1), max(k, 1)), np.int64)
    for a, unit in enumerate(units):
        for b, other in enumerate(units):
            ratio = convert(Decimal(1), unit, other)
            if ratio is None:
                continue
            if ratio == ratio.to_integral_value():  # to a smaller unit: a whole factor
                n, d = int(ratio), 1
            else:  # to a larger one: the factor back is whole (convert rounds 1/60)
                back = convert(Decimal(1), other, unit)
                assert back is not None and back == back.to_integral_value()
                n, d = 1, int(back)
            numerator[a, b], denominator[a, b] = n, d
    return numerator, denominator


def _decimals(name: str, values: np.ndarray, digits: np.ndarray) -> pl.Series:
    """A :data:`VOLUME` column from integers each with its own number of decimals."""
    kinds = [int(d) for d in np.unique(digits)] or [SCAN_DIGITS]
    if len(kinds) == 1:
        return decimal_column(name, values, kinds[0], VOLUME)
    column: Any = pl.lit(None, dtype=VOLUME)
    for d in kinds:
        column = pl.when(pl.lit(pl.Series(digits == d))).then(pl.lit(decimal_column(name, values, d, VOLUME))) \
            .otherwise(column)
    return pl.select(column.alias(name)).to_series()


def _pick(table: Sequence[Any], index: np.ndarray, where: np.ndarray, dtype: Any = pl.Utf8) -> pl.Series:
    """``table[index]`` where ``where`` holds, null elsewhere (a gather from a small table)."""
    return pl.Series(list(table) + [None], dtype=dtype).gather(np.where(where, index, len(table)))


def _groups(keys: Iterable[Any]) -> dict[Any, list[int]]:
    """The positions of each distinct key."""
    groups: dict[Any, list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        groups[key].append(position)
    return groups


_PERIOD_SPAN = 100_000_000  # yyyymmdd < 10**8


def _accumulator_keys(name: np.ndarray, sub: np.ndarray, period: np.ndarray, n_subs: int) -> np.ndarray:
    """One int64 per (accumulator, subscriber, period); -1 where a part is unknown."""
    if (int(name.max(initial=0)) + 1) * (n_subs + 1) >= np.iinfo(np.int64).max // _PERIOD_SPAN:
        raise ValueError("too many subscribers and accumulators in one chunk: rate smaller chunks")
    key = (name.astype(np.int64) * (n_subs + 1) + sub) * _PERIOD_SPAN + period
    return np.where((name < 0) | (sub < 0) | (period < 0), -1, key)


def _period_numbers(periods: pl.Series) -> np.ndarray:
    """"2026-06" -> 202606, "2026-06-01" -> 20260601, anything else -> -1."""
    parts = periods.str.extract_groups(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$").struct.unnest()
    year, month, day = (parts[c].cast(pl.Int64) for c in parts.columns)
    number = pl.select(pl.when(day.is_null()).then(year * 100 + month).otherwise((year * 100 + month) * 100 + day)
                       .fill_null(-1)).to_series()
    return number.to_numpy().astype(np.int64)


def _period_texts(numbers: np.ndarray) -> pl.Series:
    """The inverse of :func:`_period_numbers`."""
    p = pl.lit(pl.Series(numbers, dtype=pl.Int64))
    month = p < 1_000_000
    year = pl.when(month).then(p // 100).otherwise(p // 10_000).cast(pl.Utf8).str.zfill(4)
    two = lambda e: e.cast(pl.Utf8).str.zfill(2)  # noqa: E731
    text = pl.when(month).then(pl.format("{}-{}", year, two(p % 100))) \
        .otherwise(pl.format("{}-{}-{}", year, two((p // 100) % 100), two(p % 100)))
    return pl.select(text.alias("period")).to_series()


def _amount_labels(text: str, where: np.ndarray, amount: np.ndarray, minor: np.ndarray, currency: pl.Series
                   ) -> pl.Series:
    """``text`` with the amount (as the reference prints it: to the currency's quantum) and
    the currency, where ``where`` holds: "the prepaid balance cannot cover 2.50 EUR"."""
    rows = np.nonzero(where)[0]
    labels = pl.repeat(None, where.shape[0], dtype=pl.Utf8, eager=True)
    if rows.shape[0]:
        texts = [text.format(Decimal(int(a)).scaleb(-int(m)), c)
                 for a, m, c in zip(amount[rows], minor[rows], currency.gather(rows).to_list())]
        labels = labels.scatter(rows, pl.Series(texts, dtype=pl.Utf8))
    return labels


def _allocate(payable: np.ndarray, weights: Sequence[Decimal]) -> np.ndarray:
    """Minor units per part (rows x parts): each part rounded down, the leftover units to the
    largest remainders, ties to the earliest part — ``money.allocate`` in integers."""
    digits = max(_decimal_digits(w) for w in weights)
    integers = [int(w.scaleb(digits)) for w in weights]
    common = math.gcd(*integers)
    integers = [w // common for w in integers]
    total = sum(integers)
    exact = payable.shape[0] == 0 or int(payable.max()) * max(integers) < _MAX
    pay = payable if exact else payable.astype(object)  # Python integers rather than an overflow
    shares = pay[:, None] * np.array(integers, dtype=pay.dtype)[None, :]
    floors = shares // total
    remainders = shares - floors * total
    leftover = (pay - floors.sum(axis=1)).astype(np.int64)
    if exact:
        order = np.argsort(-remainders, axis=1, kind="stable")
    else:
        order = np.array([sorted(range(len(integers)), key=lambda j, r=r: (-r[j], j)) for r in remainders])
    place = np.empty_like(order)
    np.put_along_axis(place, order, np.broadcast_to(np.arange(len(integers)), order.shape).copy(), axis=1)
    return (floors + (place < leftover[:, None])).astype(np.int64)


def _list_of(name: str, n: int, rows: np.ndarray, values: pl.Series) -> pl.Series:
    """A list column of ``n`` rows from (row, value) pairs sorted by row."""
    counts = np.bincount(rows.astype(np.int64), minlength=n) if rows.shape[0] else np.zeros(n, np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = values.to_arrow()
    if isinstance(flat, pa.ChunkedArray):
        flat = flat.combine_chunks()
    return pl.Series(name, pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), flat))


def _list_column(name: str, n: int, rows: np.ndarray, values: pl.DataFrame, dtype: pl.Struct) -> pl.Series:
    """A list-of-struct column of ``n`` rows from (row, struct fields) pairs sorted by row."""
    values = values.select([pl.col(f).cast(t) for f, t in dtype.to_schema().items()])
    return _list_of(name, n, rows, values.to_struct("item")).cast(pl.List(dtype))


__all__ = ["rate_chunk", "BulkState", "records_frame", "usage_records", "subscribers_frame", "subscribers_of",
           "rated_usages", "rated_frame", "conform", "rating_order", "scaled_integers", "decimal_column",
           "RECORD_SCHEMA", "SUBSCRIBER_SCHEMA", "BUCKET_SCHEMA", "ACCUMULATOR_SCHEMA", "RATED_SCHEMA",
           "VOLUME_DIGITS", "MONEY_DIGITS", "SCAN_DIGITS"]
