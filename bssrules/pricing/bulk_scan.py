"""Stage 5 of a chunk: the balances and accumulator totals as arrays, then the scan.

5a. (before the decisions) the chunk's buckets in
    :meth:`~bssrules.pricing.usage.Bucket.order`, their units, services and validity as
    codes, how the units in play convert, and the decimals of volumes in this chunk's scan
    (6, or 12 where conversions or values need them);
5b. which accumulator totals (slots) each record counts for, their totals so far and the
    thresholds they reached; then :func:`~bssrules.pricing.bulk_kernels._scan`, which updates
    the balances and totals in place.

A value that does not fit the scan's integers leaves its subscriber to the reference
(``fallback``), never rounded.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Hashable, Iterable, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.money import ISO_4217
from bssrules.pricing.bulk_chunk import _ChunkBase
from bssrules.pricing.bulk_frames import ACCUMULATOR_SCHEMA, SCAN_DIGITS, scaled_integers
from bssrules.pricing.bulk_kernels import _compiled, _scan
from bssrules.pricing.bulk_tables import _conversions


class _Scanning(_ChunkBase):
    """5. balances and totals, then the scan."""

    # ---- 5a. balances (before the decisions: they read the volumes at the chunk's scale)

    def _buckets(self) -> None:
        names = self.subs.select(pl.col("id").alias("subscriber"), "rank")
        buckets = self.state.buckets  # conformed, one per id (_ChunkBase.__init__)
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
        bucket_units = mine["unit"].unique(maintain_order=True).to_list()  # a few distinct ones
        self.b_money = mine["unit"].is_in(sorted(ISO_4217)).fill_null(False).to_numpy()
        # one code per unit in play (currencies, the rates' units, the buckets', the records'), and
        # how each converts into each other (units.convert)
        unit_codes: dict[str, int] = {}
        record_units = self.frame["unit"].drop_nulls().unique().to_list()
        for u in self.tables.currencies + self.tables.pers + bucket_units + sorted(x for x in record_units if x):
            unit_codes.setdefault(u, len(unit_codes))
        self.b_unit = mine["unit"].replace_strict(unit_codes, return_dtype=pl.Int32).to_numpy() if nb \
            else np.zeros(0, np.int32)
        # "record.unit or rate.per": an empty unit is no unit
        self.unit = _codes(self.frame["unit"], {u: c for u, c in unit_codes.items() if u})
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
        self.service = _codes(self.frame["service"], service_codes)
        np.logical_or.at(self.fallback, bucket_sub[~(remaining_fits & floor_fits)], True)

    def _volume_digits(self, buckets: pl.DataFrame) -> None:
        """The decimals of volumes in this chunk's scan: 6, or 12 when conversions in play do
        not come out in decimals (seconds to minutes: ``units.convert`` rounds them to 12) or
        when the values need them — 12 decimals leave int64 for volumes above 9.2 million."""
        codes = np.concatenate([self.unit[self.unit >= 0], self.r_per, self.b_unit[~self.b_money]])
        # the distinct codes (a few small numbers), by counting: np.unique hashes each record's
        in_play = np.nonzero(np.bincount(codes))[0].tolist() if codes.shape[0] else []
        denominators = [int(self.conv_den[a, b]) for a in in_play for b in in_play if self.conv_num[a, b]]
        uneven = any(10**12 % d for d in denominators)  # a factor other than 2 and 5: 1/60 of a minute
        subs = self.subs.select(pl.col("id").alias("subscriber"))
        totals = self.state.accumulators.join(subs, on="subscriber", how="semi")["volume"]
        others = [buckets["remaining"].filter(pl.Series(~self.b_money)), totals]
        # the records' volumes at a scale are read once: those of the candidates count, all are kept
        volumes: dict[int, tuple[NDArray[np.int64], NDArray[np.bool_]]] = {}

        def misfits(digits: int) -> int:
            volumes[digits] = scaled_integers(self.frame["volume"], digits)
            return int((self.candidate & ~volumes[digits][1]).sum()) \
                + sum(int((~scaled_integers(v, digits)[1]).sum()) for v in others)

        misfits_6 = 1 if uneven else misfits(6)
        self.vd = 12 if uneven or (misfits_6 and misfits(12) < misfits_6) else 6
        self.volume, volume_fits = volumes[self.vd] if self.vd in volumes else scaled_integers(self.frame["volume"],
                                                                                               self.vd)
        np.logical_or.at(self.fallback, self.sub[self.candidate & ~volume_fits], True)

    # ---- 5b. accumulator totals, then the scan

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
        if len(self.acc_flags) > 1:  # one accumulator: its rows are in order already
            order = np.lexsort((defs, rows))
            rows, defs = rows[order], defs[order]
        # the period of each pair in its rule set's zone, as a number: yyyymm or yyyymmdd
        period = np.zeros(rows.shape[0], np.int64)
        for (zone, kind), members in _groups((d.zone, d.period) for d in tables.defs).items():
            mask = np.isin(defs, members)
            if mask.any():
                period[mask] = _period_of_days(self._local_days(zone)[rows[mask]], kind)
        name_of_def = np.array([tables.names.index(d.name) for d in tables.defs] + [0], dtype=np.int64)
        pair_keys = _accumulator_keys(name_of_def[defs], self.sub[rows], period, self.n_subs)
        slot_keys, first_pair, acc_slot = _distinct(pair_keys)
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
            pl.DataFrame([pl.repeat(None, n_slots, dtype=ACCUMULATOR_SCHEMA[c], eager=True).alias(c) for c in values])
        names = pl.Series(tables.names + [None], dtype=pl.Utf8)
        self.slots = pl.DataFrame({
            "accumulator": names.gather(slot_name),
            "subscriber": self.subs["id"].gather(slot_sub),
            "period": _period_texts(*np.unique(slot_period, return_inverse=True)),
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
        (def_measure, def_capped, def_ptr, column, level, exact, action, capped,
         threshold_rate) = self.tables.threshold_arrays(self.threshold_columns, self.vd)
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
                         def_measure, def_capped, def_ptr, column, level, exact, action, capped, threshold_rate,
                         self.conv_num, self.conv_den,
                         ok, self.r_per, kind, p, v, minor, flat, tier_ptr, tier_up, tier_amount, currency,
                         self.tables.max_amounts, self.tables.count_defs)
        self.stages.done("scan")


_K = TypeVar("_K", bound=Hashable)


def _groups(keys: Iterable[_K]) -> dict[_K, list[int]]:
    """The positions of each distinct key."""
    groups: dict[_K, list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        groups[key].append(position)
    return groups


def _codes(texts: pl.Series, codes: dict[str, int]) -> NDArray[np.int32]:
    """The code of each text (-1: none, or null): a chain of comparisons when the codes are
    few (a quarter of the time of ``replace_strict``, which hashes every text)."""
    if len(codes) > 16:
        return texts.replace_strict(codes, default=-1, return_dtype=pl.Int32).fill_null(-1).to_numpy()
    column = pl.col(texts.name)
    code: pl.Expr = pl.lit(-1, pl.Int32)
    for text, value in reversed(list(codes.items())):
        code = pl.when(column == text).then(pl.lit(value, pl.Int32)).otherwise(code)
    return texts.to_frame().select(code).to_series().to_numpy()


def _distinct(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``np.unique(keys, return_index=True, return_inverse=True)``, without the sort when the
    keys are in order already (one accumulator: pairs in rating order, periods growing with time)."""
    if keys.shape[0] == 0 or not (keys[1:] >= keys[:-1]).all():
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return distinct, first, inverse.reshape(-1)
    new = np.concatenate([[True], keys[1:] != keys[:-1]])
    first = np.nonzero(new)[0]
    return keys[first], first, np.cumsum(new) - 1


_PERIOD_SPAN = 100_000_000  # yyyymmdd < 10**8


def _accumulator_keys(name: NDArray[np.int64], sub: NDArray[np.int64], period: NDArray[np.int64], n_subs: int
                      ) -> NDArray[np.int64]:
    """One int64 per (accumulator, subscriber, period); -1 where a part is unknown."""
    if (int(name.max(initial=0)) + 1) * (n_subs + 1) >= np.iinfo(np.int64).max // _PERIOD_SPAN:
        raise ValueError("too many subscribers and accumulators in one chunk: rate smaller chunks")
    key = (name.astype(np.int64) * (n_subs + 1) + sub) * _PERIOD_SPAN + period
    return np.where((name < 0) | (sub < 0) | (period < 0), -1, key)


def _period_numbers(periods: pl.Series) -> NDArray[np.int64]:
    """"2026-06" -> 202606, "2026-06-01" -> 20260601, anything else -> -1."""
    parts = periods.str.extract_groups(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$").struct.unnest()
    year, month, day = (parts[c].cast(pl.Int64) for c in parts.columns)
    number = pl.select(pl.when(day.is_null()).then(year * 100 + month).otherwise((year * 100 + month) * 100 + day)
                       .fill_null(-1)).to_series()
    return number.to_numpy().astype(np.int64)


def _period_of_days(days: NDArray[np.int64], kind: str) -> NDArray[np.int64]:
    """The period (yyyymm, or yyyymmdd for ``kind`` "day") of each day (days since
    1970-01-01 in the local calendar, proleptic Gregorian as polars' and Python's dates): the
    calendar of the days in play worked out once, then looked up."""
    if days.shape[0] == 0:
        return np.zeros(0, np.int64)
    first = int(days.min())
    calendar = np.arange(first, int(days.max()) + 1, dtype=np.int64).astype("datetime64[D]")
    months = calendar.astype("datetime64[M]")
    number = (months.astype(np.int64) // 12 + 1970) * 100 + months.astype(np.int64) % 12 + 1
    if kind != "month":
        number = number * 100 + (calendar - months.astype("datetime64[D]")).astype(np.int64) + 1
    return number[days - first]


def _period_texts(numbers: NDArray[np.int64], inverse: NDArray[np.int64] | None = None) -> pl.Series:
    """The inverse of :func:`_period_numbers`; with ``inverse``, ``numbers`` are the distinct
    ones and the texts come out at ``numbers[inverse]`` (made once per distinct period)."""
    if inverse is not None:
        return _period_texts(numbers).gather(inverse.reshape(-1))
    p = pl.lit(pl.Series(numbers, dtype=pl.Int64))
    month = p < 1_000_000
    year = pl.when(month).then(p // 100).otherwise(p // 10_000).cast(pl.Utf8).str.zfill(4)

    def two(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.Utf8).str.zfill(2)

    text = pl.when(month).then(pl.format("{}-{}", year, two(p % 100))) \
        .otherwise(pl.format("{}-{}-{}", year, two((p // 100) % 100), two(p % 100)))
    return pl.select(text.alias("period")).to_series()
