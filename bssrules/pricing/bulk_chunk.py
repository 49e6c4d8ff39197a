"""One chunk of bulk rating: its inputs, checked, and the arrays its stages set.

:class:`_ChunkBase` takes a chunk's records, subscribers, book and state in (conformed to
their schemas, the records checked) and declares, stage by stage, every array the stages
set on it. The stages are mixins in modules of their own — :mod:`bssrules.pricing.bulk_order`,
:mod:`~bssrules.pricing.bulk_decide`, :mod:`~bssrules.pricing.bulk_scan`,
:mod:`~bssrules.pricing.bulk_output` — put together as ``_Chunk`` in
:mod:`bssrules.pricing.bulk`, which runs them in order. The declarations are here, apart from
the stages, so that each stage is type-checked against what the others set, and so that a
reader finds in one place what a chunk holds.
"""
from __future__ import annotations

import time
from typing import cast

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.pricing.bulk_calendar import mark_outside_calendar
from bssrules.pricing.bulk_frames import ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, RECORD_SCHEMA, BulkState, conform
from bssrules.pricing.bulk_kernels import _ScanResult
from bssrules.pricing.bulk_tables import _BookTables, _subscription_table, _tables
from bssrules.pricing.rating import MAX_VOLUME
from bssrules.rules.book import RuleBook


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


class _ChunkBase:
    """A chunk's inputs, and the arrays its stages set, declared in the order they are set
    (per record: in rating order; per subscriber: by rank, the last entry for none)."""

    # the inputs (__init__)
    book: RuleBook
    tables: _BookTables
    stages: _Stages
    records: pl.DataFrame  # RECORD_SCHEMA, as given, malformed where a value is missing (cleared once ordered)
    all_subscribers: pl.DataFrame  # the subscription table (SUBSCRIBER_SCHEMA, by id)
    state: BulkState  # one bucket per id, one total per key

    # 1. order (bulk_order)
    subs: pl.DataFrame  # the chunk's subscribers by rank ("known": with a subscription); 4. adds columns
    n_subs: int
    frame: pl.DataFrame  # the records in rating order, with "sub"
    sub: NDArray[np.int64]  # per record: its subscriber's rank, -1 for none
    start: NDArray[np.int64]  # per record: microseconds since the epoch (0: unreadable)
    malformed: NDArray[np.bool_]
    unknown: NDArray[np.bool_]  # of a subscriber without a subscription
    candidate: NDArray[np.bool_]  # neither: the rules decide
    fallback: NDArray[np.bool_]  # per subscriber: left to the reference (any stage may set it)
    local_starts: dict[str, pl.Series]  # by time zone: the starts as wall-clock time there (see _local_start)

    # 5a. balances (bulk_scan, before the decisions: they read the chunk's volumes)
    chunk_buckets: pl.DataFrame  # the buckets of the chunk's subscribers, by rank and Bucket.order
    sub_bucket_ptr: NDArray[np.int64]  # per subscriber: its buckets, sub_buckets[ptr[s]:ptr[s + 1]]
    sub_buckets: NDArray[np.int64]
    b_money: NDArray[np.bool_]
    b_unit: NDArray[np.int32]  # unit codes, also of the records and the rates
    unit: NDArray[np.int32]  # per record (-1: none)
    r_per: NDArray[np.int32]  # per rate
    unit_names: list[str]  # by unit code
    conv_num: NDArray[np.int64]  # [from, to] unit codes (0 / 0: they do not convert)
    conv_den: NDArray[np.int64]
    vd: int  # the decimals of volumes in the scan: 6 or 12
    volume: NDArray[np.int64]  # per record, with vd decimals
    b_remaining: NDArray[np.int64]  # money with SCAN_DIGITS decimals, units with vd
    b_floor: NDArray[np.int64]
    b_has_floor: NDArray[np.bool_]
    b_from: NDArray[np.int64]  # microseconds
    b_to: NDArray[np.int64]
    b_service_ptr: NDArray[np.int64]  # per bucket: its services, b_services[ptr[b]:ptr[b + 1]]
    b_services: NDArray[np.int32]  # service codes
    service: NDArray[np.int32]  # per record (-1: a service no bucket names)

    # 2. rule decisions (bulk_decide)
    acc_flags: list[NDArray[np.bool_]]  # [j]: accumulator j of the chosen version counts the record
    chosen: NDArray[np.int32]  # per record: the version that rates it (-1: none)
    rule: NDArray[np.int32]  # per record: the rule (a global index, -1: none)
    reason_words: NDArray[np.int64]  # per record: the reasons the rule sets give, as bits

    # 3. prices (bulk_decide)
    rate0: NDArray[np.int32]  # per record: the rule's rate
    amount0: NDArray[np.int64]  # the whole volume at it, in minor units
    amount0_fits: NDArray[np.bool_]

    # 4. payer plans (bulk_decide)
    role_index: dict[str, int]  # the payer roles of the plans, by their column
    plan: NDArray[np.int32]  # per record: a plan of the split billing tables, or vectorized's codes
    unassigned: NDArray[np.bool_]  # no payer, or a payer without a billing account
    unassigned_code: pl.Series
    unassigned_label: pl.Series
    amount_dependent: NDArray[np.bool_]  # the plan was decided with charge.amount
    currency_dependent: NDArray[np.bool_]  # or with charge.currency

    # 5b. accumulator totals, then the scan (bulk_scan)
    slots: pl.DataFrame  # one accumulator total (accumulator, subscriber, period) per row
    slot_sub: NDArray[np.int64]
    slot_name: NDArray[np.int64]  # the accumulator, by index into tables.names
    state_slot_rows: NDArray[np.bool_]  # the state's totals the slots carry on
    acc_ptr: NDArray[np.int64]  # per record: its (definition, slot) pairs, [ptr[i]:ptr[i + 1]]
    acc_def: NDArray[np.int64]
    acc_slot: NDArray[np.int64]
    pair_row: NDArray[np.int64]  # the record of each pair
    threshold_ids: list[list[str]]  # per accumulator: its threshold ids, by column
    threshold_columns: dict[tuple[str, str], int]
    s_rank: NDArray[np.int64]  # [slot, column]: the order thresholds were reached in (-1: not)
    s_count: NDArray[np.int64]  # per slot: the thresholds reached
    s_volume: NDArray[np.int64]  # per slot, with vd decimals
    s_amount: NDArray[np.int64]  # per slot, with SCAN_DIGITS decimals
    out: _ScanResult

    def __init__(self, records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, state: BulkState,
                 timings: dict[str, float] | None):
        self.book = book
        self.tables = _tables(book)
        self.stages = _Stages(timings)
        # (a start with no date in a rule set's zone: malformed, as online says — a few records near the calendar's ends)
        self.records = mark_outside_calendar(_checked(conform(records, RECORD_SCHEMA)), book).rechunk()  # gathers over many chunks cost more
        self.all_subscribers = _subscription_table(subscribers)
        self.state = BulkState(
            conform(state.buckets, BUCKET_SCHEMA).unique("id", keep="last", maintain_order=True),
            conform(state.accumulators, ACCUMULATOR_SCHEMA).unique(["accumulator", "subscriber", "period"],
                                                                   keep="last", maintain_order=True))

    def _local_days(self, zone: str) -> NDArray[np.int64]:
        """Per record: the day of its start in ``zone``'s calendar, as days since 1970-01-01
        (0 where the start is null)."""
        micros = self._local_start(zone).dt.epoch("us").fill_null(0).to_numpy()
        days: NDArray[np.int64] = np.floor_divide(micros, 86_400_000_000)
        return days

    def _local_start(self, zone: str) -> pl.Series:
        """The records' starts (in rating order) as wall-clock time in ``zone``, without a
        zone: the time zone's rules looked up once per record and zone, not once per field
        read (hour, minute, weekday, year, month, day) — each lookup costs as much as the
        conversion itself. Null where the start is."""
        local = self.local_starts.get(zone)
        if local is None:
            local = _wall_clock(self.frame["start"], zone)
            self.local_starts[zone] = local
        return local


_HOUR = 3_600_000_000  # microseconds


def _wall_clock(start: pl.Series, zone: str) -> pl.Series:
    """``start`` (UTC) as wall-clock time in ``zone``, without a zone. The zone's offset is
    looked up once per hour of the starts' span, at its first and its last microsecond: where
    both agree (no change of offset within the hour), the records of that hour take it; the
    records of an hour whose offset changes are converted one by one. The same values as
    converting every start (a zone never changes its offset twice within an hour), at a
    tenth of the cost."""
    micros = start.dt.epoch("us")
    lowest, highest = micros.min(), micros.max()
    if lowest is None or highest is None:
        return start.dt.convert_time_zone(zone).dt.replace_time_zone(None)
    first = int(cast(int, lowest)) // _HOUR
    hours = int(cast(int, highest)) // _HOUR - first + 1
    if hours > max(64, start.len()):  # a span of many more hours than records: one by one
        return start.dt.convert_time_zone(zone).dt.replace_time_zone(None)
    begins = (np.arange(hours, dtype=np.int64) + first) * _HOUR
    edges = pl.Series(np.concatenate([begins, begins + _HOUR - 1])).cast(pl.Datetime("us", "UTC"))
    offsets = (edges.dt.convert_time_zone(zone).dt.replace_time_zone(None).dt.epoch("us").to_numpy()
               - np.concatenate([begins, begins + _HOUR - 1]))
    steady = offsets[:hours] == offsets[hours:]
    values = micros.fill_null(first * _HOUR).to_numpy()
    hour = values // _HOUR - first
    local = pl.Series(values + offsets[hour]).cast(pl.Datetime("us"))
    present = micros.is_not_null()
    if not present.all():
        local = pl.select(pl.when(present).then(local)).to_series()
    changing = ~steady[hour] & present.to_numpy()
    if changing.any():
        rows = np.nonzero(changing)[0]
        exact = start.gather(rows).dt.convert_time_zone(zone).dt.replace_time_zone(None)
        local = local.scatter(rows, exact)
    return local.rename(start.name)


def _checked(records: pl.DataFrame) -> pl.DataFrame:
    """The records with ``malformed`` set where a frame built elsewhere left a value missing
    (the converters and the file readers say why themselves, with the reference's words)."""
    volume, service = pl.col("volume"), pl.col("service")
    if not records.select((pl.col("start").is_null() | volume.is_null() | (volume < 0) | (volume > MAX_VOLUME)
                           | service.is_null() | (service == "")).any()).item():
        return records  # nothing to say (the texts below would be made for every record)
    problem = pl.coalesce(
        pl.col("malformed"),
        pl.when(pl.col("start").is_null()).then(pl.lit("the usage start has no time zone")),
        pl.when(pl.col("volume").is_null() | (pl.col("volume") < 0))
        .then(pl.format("the volume must be a number of at least 0, got {}",
                        pl.col("volume").cast(pl.Utf8).fill_null("None"))),  # None: as the reference says it
        pl.when(pl.col("volume") > MAX_VOLUME)
        .then(pl.format("the volume {} is beyond what one record can hold", pl.col("volume"))),
        pl.when(pl.col("service").is_null() | (pl.col("service") == ""))
        .then(pl.lit("the usage service must be a non-empty text")))
    return records.with_columns(malformed=problem)
