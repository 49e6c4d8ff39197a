"""Bulk rating's frames: their schemas, the state as frames, and exact conversions.

What every other bulk module reads, and which reads none of them:

- the schemas of the frames bulk rating takes and gives (records, subscribers, balances,
  accumulator totals, the rated frame) and :class:`BulkState`, the balances and totals of
  :class:`~bssrules.pricing.usage.RatingState` as two frames;
- the converters between frames and the reference's values (:mod:`bssrules.pricing.usage`);
- exact conversions between decimal columns and int64 arrays scaled by a power of ten
  (the kernels work in integers, never in floats), and the columns built back from arrays.

The schemas are the contract between the file readers (:mod:`bssrules.pricing.bulk_read`),
the chunk pipeline (:mod:`bssrules.pricing.bulk`) and the writers
(:mod:`bssrules.pricing.bulk_write`).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Iterable, Mapping, Sequence

import numpy as np
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

from bssrules.money import minor_unit_exponent
from bssrules.pricing.rating import malformed as malformed_problem
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, Charge, Event, RatedUsage, RatingState, Subscriber, UsageRecord,
)

if TYPE_CHECKING:
    from polars._typing import PolarsDataType


VOLUME_DIGITS = 12  # decimals of volumes, balances and totals in the frames
MONEY_DIGITS = 3  # decimals of amounts in RATED_SCHEMA (the largest ISO 4217 minor unit); rate_chunk gives
# its book's money_digits (the largest minor unit of its currencies: 2 for EUR)
SCAN_DIGITS = 6  # decimals of money in the scan (int64), and of volumes unless a chunk needs 12
# the engine of bulk rating's lazy queries: polars' default runs them on its streaming engine,
# whose executor also encodes the rated Parquet file in the background (bulk_write), and a
# query queued there behind a chunk's encoding waited 30-50 ms for a few ms of work
IN_MEMORY: Final = "in-memory"
_MAX = np.iinfo(np.int64).max
_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)

UTC_MICROS = pl.Datetime("us", "UTC")
VOLUME = pl.Decimal(38, VOLUME_DIGITS)
MONEY = pl.Decimal(38, MONEY_DIGITS)

RECORD_SCHEMA: dict[str, PolarsDataType] = {
    "id": pl.Utf8, "subscriber": pl.Utf8, "service": pl.Utf8, "start": UTC_MICROS, "volume": VOLUME,
    "unit": pl.Utf8, "type": pl.Utf8, "roaming": pl.Boolean, "country": pl.Utf8,
    "malformed": pl.Utf8,  # why the record cannot be rated whatever the rules say (null: it can)
}
PAYER = pl.Struct({"role": pl.Utf8, "account": pl.Utf8})
SUBSCRIBER_SCHEMA: dict[str, PolarsDataType] = {
    "id": pl.Utf8, "party_id": pl.Utf8, "classification": pl.Utf8, "offering": pl.Utf8,
    "active_offerings": pl.List(pl.Utf8), "payers": pl.List(PAYER), "split_billing": pl.Utf8,
}
BUCKET_SCHEMA: dict[str, PolarsDataType] = {
    "id": pl.Utf8, "subscriber": pl.Utf8, "unit": pl.Utf8, "remaining": VOLUME, "precedence": pl.Int64,
    "services": pl.List(pl.Utf8), "valid_from": UTC_MICROS, "valid_to": UTC_MICROS,
    "floor": VOLUME,  # null: no limit
}
ACCUMULATOR_SCHEMA: dict[str, PolarsDataType] = {
    "accumulator": pl.Utf8, "subscriber": pl.Utf8, "period": pl.Utf8, "volume": VOLUME, "amount": VOLUME,
    "reached": pl.List(pl.Utf8),
}
REASON = pl.Struct({"code": pl.Utf8, "label": pl.Utf8, "prerequisite": pl.Utf8, "threshold": pl.Utf8})
CHARGE = pl.Struct({"payer": pl.Utf8, "billing_account": pl.Utf8, "amount": MONEY})
TAKE = pl.Struct({"bucket": pl.Utf8, "taken": VOLUME})
EVENT = pl.Struct({"kind": pl.Utf8, "accumulator": pl.Utf8, "threshold": pl.Utf8, "action": pl.Utf8,
                   "subscriber": pl.Utf8, "period": pl.Utf8, "value": VOLUME, "record": pl.Utf8})
MONEY_COLUMNS = ("amount", "prepaid", "charges")  # the columns of the rated frame holding amounts


def money_digits(currencies: Iterable[str]) -> int:
    """The decimals of amounts in a rated frame whose charges are in these currencies: the
    largest minor unit among them (2 for none), so that 2.5 EUR reads 2.50 as the API writes it."""
    return max((minor_unit_exponent(c) for c in currencies), default=2)


def money_schema(digits: int, precision: int = 38) -> dict[str, PolarsDataType]:
    """The types of the money columns of a rated frame whose amounts have ``digits`` decimals."""
    money = pl.Decimal(precision, digits)
    return {"amount": money, "prepaid": money,
            "charges": pl.List(pl.Struct({"payer": pl.Utf8, "billing_account": pl.Utf8, "amount": money}))}


def frame_money_digits(frame: pl.DataFrame) -> int:
    """The decimals of the amounts of a rated frame (:data:`MONEY_DIGITS` when it has none)."""
    dtype = frame.schema.get("amount")
    return (dtype.scale or 0) if isinstance(dtype, pl.Decimal) else MONEY_DIGITS


def with_money_digits(frame: pl.DataFrame, digits: int) -> pl.DataFrame:
    """The rated frame with its amounts at ``digits`` decimals (exact: each amount has at most
    its currency's decimals, and ``digits`` is at least that)."""
    schema, given = money_schema(digits), frame.schema
    return frame.with_columns(pl.col(c).cast(schema[c]) for c in MONEY_COLUMNS if c in given and given[c] != schema[c])


RATED_SCHEMA: dict[str, PolarsDataType] = {
    **{k: v for k, v in RECORD_SCHEMA.items() if k != "malformed"},
    "status": pl.Utf8, "rule_set": pl.Utf8, "rule": pl.Utf8, "provisioning_id": pl.Utf8, "currency": pl.Utf8,
    "rated_volume": VOLUME, "refused_volume": VOLUME, "amount": MONEY, "prepaid": MONEY, "charges": pl.List(CHARGE),
    "buckets": pl.List(TAKE), "events": pl.List(EVENT), "reasons": pl.List(REASON),
    "reason_code": pl.Utf8, "reason_label": pl.Utf8, "rated_by": pl.Utf8,
}

# The rated file's names, as the rule YAML and the API write them (camelCase): the rated
# frames keep the snake_case names of RATED_SCHEMA until they are written (bulk_write).
# ``rated_by`` (which path rated the record: "bulk" or "reference") is written ``ratingPath``:
# in the API, ``ratedBy`` is the rule that rated a usage, another thing.
OUTPUT_NAMES = {"rule_set": "ruleSet", "provisioning_id": "provisioningId", "rated_volume": "ratedVolume",
                "refused_volume": "refusedVolume", "reason_code": "reasonCode", "reason_label": "reasonLabel",
                "rated_by": "ratingPath"}
_EARLIER_OUTPUT_NAMES = {"ratedBy": "rated_by"}  # rated files written before ratingPath, read back
OUTPUT_CHARGE_FIELDS = ["payer", "billingAccount", "amount"]  # of each element of ``charges``


def output_names(frame: pl.DataFrame) -> pl.DataFrame:
    """A rated frame (:data:`RATED_SCHEMA`) with the rated file's camelCase names."""
    return frame.rename(OUTPUT_NAMES).with_columns(
        pl.col("charges").list.eval(pl.element().struct.rename_fields(OUTPUT_CHARGE_FIELDS)))


def frame_names(frame: pl.DataFrame) -> pl.DataFrame:
    """A rated file read back, with the names of :data:`RATED_SCHEMA` (the inverse of :func:`output_names`)."""
    if "ruleSet" not in frame.columns:
        return frame
    names = {**_EARLIER_OUTPUT_NAMES, **{v: k for k, v in OUTPUT_NAMES.items()}}
    return frame.rename({name: own for name, own in names.items() if name in frame.columns}).with_columns(
        pl.col("charges").list.eval(pl.element().struct.rename_fields(list(CHARGE.to_schema()))))


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
    if not _representable(value):
        raise ValueError(f"{value} has more than {VOLUME_DIGITS} decimals: bulk rating keeps {VOLUME_DIGITS}")
    return value


def _representable(value: Decimal) -> bool:
    """A finite decimal with at most :data:`VOLUME_DIGITS` decimals."""
    if not value.is_finite():
        return False
    # the exponent without the trailing zeros, counted exactly (normalize() rounds to the
    # context: 8.4e-161767936 would come out 0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # the value is finite
    if exponent >= -VOLUME_DIGITS or not any(digits):
        return True
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return exponent + trailing >= -VOLUME_DIGITS


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
    """The rated frame (or a rated file read back) as the reference's values, row by row (for
    comparisons and tests)."""
    results = []
    for row in frame_names(frame).iter_rows(named=True):
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
                        _plain(e["value"]), e["record"]) for e in row["events"] or ()),
            _plain(row["refused_volume"]) if row.get("refused_volume") is not None else Decimal(0)))
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
            "refused_volume": r.refused_volume, "amount": r.amount, "prepaid": r.prepaid,
            "charges": [{"payer": c.payer, "billing_account": c.billing_account, "amount": c.amount}
                        for c in r.charges],
            "buckets": [{"bucket": b, "taken": q} for b, q in r.buckets],
            "events": [{"kind": e.kind, "accumulator": e.accumulator, "threshold": e.threshold, "action": e.action,
                        "subscriber": e.subscriber, "period": e.period, "value": e.value, "record": e.record}
                       for e in r.events],
            "reasons": reasons, "reason_code": reasons[0]["code"] if reasons else None,
            "reason_label": reasons[0]["label"] if reasons else None, "rated_by": rated_by})
    return pl.DataFrame(rows, schema=RATED_SCHEMA)


def conform(frame: pl.DataFrame, schema: Mapping[str, PolarsDataType]) -> pl.DataFrame:
    """The frame with exactly the columns of ``schema``, in order and of its types (absent
    optional columns as nulls)."""
    columns = []
    given = frame.schema  # once: each call builds the whole schema (a rated frame's: 28 columns, nested types)
    for name, dtype in schema.items():
        if name in given:
            columns.append(frame[name].cast(dtype) if given[name] != dtype else frame[name])
        else:
            columns.append(pl.repeat(None, frame.height, dtype=dtype, eager=True).alias(name))  # not a list of Nones
    return pl.DataFrame(columns)


# ------------------------------------------------------------------ exact integer columns


def scaled_integers(series: pl.Series, digits: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
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


def _scaled_wide(series: pl.Series, scale: int, digits: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
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


def decimal_column(name: str, values: NDArray[np.int64], digits: int, dtype: pl.Decimal,
                   valid: NDArray[np.bool_] | None = None) -> pl.Series:
    """int64 ``value * 10**digits`` as a decimal column of ``dtype`` (whose scale is at least ``digits``)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    scale = dtype.scale or 0
    if dtype.precision == 38 and scale > digits:  # at the column's scale here when int64 holds it (no cast after)
        factor = 10 ** (scale - digits)
        if factor <= _MAX and (values.shape[0] == 0 or -(_MAX // factor) <= int(values.min()) <= int(values.max())
                                <= _MAX // factor):
            values, digits = values * factor, scale
    words = np.empty((values.shape[0], 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63  # sign extension to 128 bits
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little").tobytes())
    # the words as they are (the buffer keeps the array alive): no copy of them into bytes first
    array = pa.Array.from_buffers(pa.decimal128(38, digits), values.shape[0], [validity, pa.py_buffer(words)])
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


# ------------------------------------------------------------------ columns from arrays


def _decimals(name: str, values: NDArray[np.int64], digits: NDArray[np.integer[Any]]) -> pl.Series:
    """A :data:`VOLUME` column from integers each with its own number of decimals."""
    if digits.shape[0] == 0:
        kinds = [SCAN_DIGITS]
    else:  # most often one kind: no sort to find it
        low, high = int(digits.min()), int(digits.max())
        kinds = [low] if low == high else [int(d) for d in np.unique(digits)]
    if len(kinds) == 1:
        return decimal_column(name, values, kinds[0], VOLUME)
    column: pl.Expr = pl.lit(None, dtype=VOLUME)
    for d in kinds:
        column = pl.when(pl.lit(pl.Series(digits == d))).then(pl.lit(decimal_column(name, values, d, VOLUME))) \
            .otherwise(column)
    return pl.select(column.alias(name)).to_series()


def _pick(table: Sequence[object], index: NDArray[np.integer[Any]], where: NDArray[np.bool_],
          dtype: PolarsDataType = pl.Utf8) -> pl.Series:
    """``table[index]`` where ``where`` holds, null elsewhere (a gather from a small table)."""
    if all(value is None for value in table):
        return pl.repeat(None, index.shape[0], dtype=dtype, eager=True).alias("")
    if dtype == pl.Utf8:
        return take_strings(pl.Series(list(table), dtype=pl.Utf8), index, where)
    return pl.Series(list(table) + [None], dtype=dtype).gather(np.where(where, index, len(table)))


def take_strings(series: pl.Series, index: NDArray[np.integer[Any]], where: NDArray[np.bool_] | None = None
                 ) -> pl.Series:
    """``series[index]`` for a string column (null where ``where`` is false, if given): the
    16-byte views of the strings gathered by numpy, their bytes shared, not copied. Half the
    time of polars' gather of strings, a sixth on a column of several chunks."""
    n = index.shape[0]
    if series.len() == 0 or (where is not None and not where.any()):
        return pl.repeat(None, n, dtype=pl.Utf8, eager=True).alias(series.name)
    array = series.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.string_view():
        array = array.cast(pa.string_view())
    buffers = array.buffers()
    views = np.frombuffer(buffers[1], dtype=np.int64, count=2 * (array.offset + len(array)))
    views = views.reshape(-1, 2)[array.offset:]
    safe = index if where is None else np.where(where, index, 0)
    taken = views.take(safe, axis=0)
    valid = np.ones(n, bool) if where is None else where
    if array.null_count:
        valid = valid & np.asarray(array.is_valid())[safe]
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    # the views taken refer to the series' own data buffers (strings longer than 12 bytes)
    out = pa.Array.from_buffers(pa.string_view(), n, [validity, pa.py_buffer(taken), *buffers[2:]])
    return pl.Series(series.name, out)


def _list_of(name: str, n: int, rows: NDArray[np.int64], values: pl.Series) -> pl.Series:
    """A list column of ``n`` rows from (row, value) pairs sorted by row."""
    counts = np.bincount(rows.astype(np.int64), minlength=n) if rows.shape[0] else np.zeros(n, np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    # polars' own string views through Arrow and back: no copy into Arrow strings and back
    flat = values.to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(flat, pa.ChunkedArray):
        flat = flat.combine_chunks()
    return pl.Series(name, pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), flat))


def _list_column(name: str, n: int, rows: NDArray[np.int64], values: pl.DataFrame, dtype: pl.Struct) -> pl.Series:
    """A list-of-struct column of ``n`` rows from (row, struct fields) pairs sorted by row."""
    values = values.select([pl.col(f).cast(t) for f, t in dtype.to_schema().items()])
    return _list_of(name, n, rows, values.to_struct("item")).cast(pl.List(dtype))
