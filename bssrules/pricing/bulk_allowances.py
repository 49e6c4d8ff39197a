"""Bulk rating with included allowances: the allowance buckets of the months of the input,
provisioned from the catalog before the records of each month are rated.

Online, a product's allowance bucket of a month is made when its first usage of the month
is rated (:mod:`bssrules.services.usage`); here the same decision
(:func:`bssrules.pricing.allowances.grant`) is taken for every (subscriber, month) of the
records before :func:`bssrules.pricing.bulk.rate_chunk` rates that month — a subscriber is
a product, its ``offering`` says which allowances it gets. A month's bucket carries over what
the previous month's bucket had left *after* that month was rated, so the records are rated
month by month (UTC calendar months, oldest first), each month with the state the previous
one handed on. Buckets already in the state (made online, or by an earlier file) are kept
as they are: made twice, a bucket is found made.

``starts`` gives each subscriber's start (pro-rating of its first month, and how far back a
rollover chain goes); a subscriber without one is taken as started before the input, its
rollover read only from a previous month's bucket in the state.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Mapping

import polars as pl

from bssrules.catalog.catalog import Catalog
from bssrules.pricing.allowances import PREFIX, allowances_of, bucket_id, grant
from bssrules.pricing.bulk import BulkState, rate_chunk
from bssrules.errors import InvalidInput
from bssrules.pricing.bulk_frames import ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, RATED_SCHEMA, RECORD_SCHEMA, conform
from bssrules.pricing.bulk_read import (
    normalize_usage, read_buckets, read_subscriber_starts, read_subscribers, read_usage_batches,
)
from bssrules.pricing.bulk_write import write_state
from bssrules.pricing.usage import RatingState
from bssrules.rules.book import RuleBook

_MONTH = "%Y-%m"


def provision(records: pl.DataFrame, subscribers: pl.DataFrame, catalog: Catalog, state: BulkState,
              starts: Mapping[str, dt.datetime] | None = None) -> BulkState:
    """``state`` with the allowance buckets the subscribers of ``records`` lack for the months
    of their records (the rollover read from the state's buckets of the months before)."""
    records = conform(records, RECORD_SCHEMA)
    if records.is_empty():
        return state
    offering_of = dict(zip(subscribers["id"].to_list(), subscribers["offering"].to_list()))
    wanted = (records.filter(pl.col("start").is_not_null() & pl.col("malformed").is_null())
              .select("subscriber", month=pl.col("start").dt.convert_time_zone("UTC").dt.strftime(_MONTH))
              .unique().sort("subscriber", "month"))
    pairs = [(s, m) for s, m in wanted.iter_rows() if allowances_of(catalog, offering_of.get(s))]
    if not pairs:
        return state
    buckets = conform(state.buckets, BUCKET_SCHEMA)
    mine = buckets.filter(pl.col("id").str.starts_with(PREFIX)
                          & pl.col("subscriber").is_in(pl.Series([s for s, _ in pairs]).implode()))
    remaining: dict[str, Decimal] = {b.id: b.remaining for b in BulkState(mine, state.accumulators.clear())
                                     .to_rating_state().buckets.values()}
    made = {}
    for subscriber, month in pairs:
        offering = offering_of.get(subscriber)
        start = (starts or {}).get(subscriber)
        for price, allowance in allowances_of(catalog, offering):
            if bucket_id(subscriber, price.id, allowance.id, month) in remaining:
                continue
            found = grant(subscriber, offering, price, allowance, start, month, remaining.get)
            if found is not None:
                made[found.bucket_id] = found.bucket()
                remaining[found.bucket_id] = found.amount
    if not made:
        return state
    new = BulkState.from_rating_state(RatingState(made, {}))
    return BulkState(pl.concat([buckets, new.buckets]), state.accumulators)


def rate_with_allowances(records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, catalog: Catalog,
                         state: BulkState, starts: Mapping[str, dt.datetime] | None = None
                         ) -> tuple[pl.DataFrame, BulkState]:
    """:func:`~bssrules.pricing.bulk.rate_chunk` month by month, each month's allowance
    buckets provisioned first. The rated frame is in (month, rating order) order; records
    without a readable start (rejected whatever the month) come with the last month."""
    records = conform(records, RECORD_SCHEMA)
    months = records.select(month=pl.col("start").dt.convert_time_zone("UTC").dt.strftime(_MONTH))["month"]
    labels = sorted({m for m in months.to_list() if m is not None})
    if len(labels) <= 1:
        return _rate_month(records, subscribers, book, catalog, state, starts)
    frames = []
    for n, label in enumerate(labels):
        chosen = (months == label).fill_null(False)
        if n == len(labels) - 1:
            chosen = chosen | months.is_null()
        rated, state = _rate_month(records.filter(chosen), subscribers, book, catalog, state, starts)
        frames.append(rated)
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=RATED_SCHEMA), state


def _rate_month(records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, catalog: Catalog,
                state: BulkState, starts: Mapping[str, dt.datetime] | None) -> tuple[pl.DataFrame, BulkState]:
    """One month's records rated with the buckets it lacks provisioned; a subscriber's
    buckets provisioned here are kept only when one of its records is rated — as online, a
    rejected usage makes no bucket (it takes nothing); the month's first usage rated does."""
    provisioned = provision(records, subscribers, catalog, state, starts)
    rated, after = rate_chunk(records, subscribers, book, provisioned)
    made = set(provisioned.buckets["id"].to_list()) - set(conform(state.buckets, BUCKET_SCHEMA)["id"].to_list())
    if not made:
        return rated, after
    rated_for = set(rated.filter(pl.col("status") != "rejected")["subscriber"].to_list())
    dropped = [b for b, s in zip(provisioned.buckets["id"].to_list(), provisioned.buckets["subscriber"].to_list())
               if b in made and s not in rated_for]
    if dropped:  # (untouched: a rejected record moves no bucket)
        after = BulkState(after.buckets.filter(~pl.col("id").is_in(pl.Series(dropped).implode())), after.accumulators)
    return rated, after


def has_allowances(catalog: Catalog) -> bool:
    return any(price.allowances for price in catalog.prices.values())


def provision_files(catalog: Catalog, usage: Path, subscribers: Path, buckets: Path | None, folder: Path
                    ) -> Path | None:
    """For ``bssrules rate``: the buckets file to rate ``usage`` with — ``buckets`` (None: no
    buckets) with the allowance buckets of the months of the usage added, written in
    ``folder`` (``buckets`` itself when the catalog has no allowance). The subscribers' start
    dates are the subscribers file's ``startDate`` column. A file spanning several months
    with an allowance that rolls over is refused: a month's rollover is read once the month
    before is rated, so such a file is rated one month at a time (or by
    :func:`rate_with_allowances`)."""
    if not has_allowances(catalog):
        return buckets
    months: set[str] = set()
    pairs: list[pl.DataFrame] = []
    for raw in read_usage_batches(usage):
        frame = normalize_usage(raw)
        pairs.append(frame.select("id", "subscriber", "start", "malformed"))
        months.update(m for m in frame["start"].dt.convert_time_zone("UTC").dt.strftime(_MONTH).to_list() if m)
    rolling = any(a.rollover is not None for p in catalog.prices.values() for a in p.allowances)
    if rolling and len(months) > 1:
        raise InvalidInput(f"{usage}: the usage spans {len(months)} months ({min(months)} to {max(months)}) and "
                           "an allowance of the catalog rolls over: rate one month at a time, passing on the state "
                           "(--state-out, then --buckets)", path=(str(usage),))
    records = conform(pl.concat(pairs, how="vertical_relaxed") if pairs else pl.DataFrame(), RECORD_SCHEMA)
    state = BulkState(read_buckets(buckets) if buckets else pl.DataFrame(schema=BUCKET_SCHEMA),
                      pl.DataFrame(schema=ACCUMULATOR_SCHEMA))
    provisioned = provision(records, read_subscribers(subscribers), catalog, state, read_subscriber_starts(subscribers))
    write_state(provisioned, folder)
    return folder / "buckets.jsonl"
