"""Bulk rating: a chunk of usage records as columns, with the same results as the reference.

``rate_chunk(records, subscribers, book, state)`` gives, for a subscriber-partitioned chunk,
exactly what :func:`bssrules.pricing.rating.rate_records` gives record by record — same
statuses, reasons, rates, amounts, refused volumes, bucket takes, events, charges per payer
and new state — and holds nothing between calls: the balances and accumulators come in and go
out as a :class:`BulkState` of two frames, so a chunk can be rated on any worker.

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
   and changeRate thresholds, the unit check, the caps of ``rateUpToCap`` thresholds on the
   volume, unit buckets by :meth:`Bucket.order` with volumes converted as
   :func:`bssrules.pricing.units.convert` does, the price of what is left (re-priced only
   when a bucket, a threshold or a cap changed it), the caps on the charge (the largest part
   whose charge fits, found exactly in integers), money buckets down to their floors
   (prepaid), the payer check, then accumulator totals and threshold events;
6. share the billed part between payers (largest remainder, ties to the earliest part,
   exactly as :func:`bssrules.money.allocate`) and assemble the rated frame, its amounts
   with the decimals of the book's currencies (:func:`money_digits`: 2.50 EUR, as the API
   writes them).

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
  reports one key for two conditions; only the reference reproduces that);
- a record would pass a ``rateUpToCap`` threshold and the part up to the cap is not exact in
  the scan's integers: the threshold's ``at`` has more decimals than the scan's money or
  volumes, the part needs more decimals than the chunk's volumes (12 decimals in a chunk at
  6: an amount cap at a price that does not divide the headroom), a product passes int64,
  or the rate's tiers are not bounded in increasing order up to an unbounded last one.
  Records that pass no cap, and records a reached cap blocks, are not concerned.

The ``rated_by`` column says which path rated each record ("bulk" or "reference").

The order of records sharing subscriber, start *and* id follows their text as the
reference's does, but here the start is in UTC where the reference keeps its own offset;
records with an unreadable start come after the others of their subscriber, by id.

Where each step lives (modules of :mod:`bssrules.pricing`)::

    usage file (CSV, JSON lines, Parquet)
        |   bulk_read      read in batches (text stays text); normalize_usage: RECORD_SCHEMA,
        |                  a bad row kept and marked ``malformed``, never dropped
        v
    record frames          bulk_frames: the schemas, BulkState, the converters to and from
        |                  the reference's values, exact decimal <-> int64 columns
        |   bulk_io        partition by subscriber (a hash; spilled to Arrow files when the
        |                  file holds more than one chunk): a partition holds all the usage
        |                  of its subscribers, and takes only their balances and totals along
        v
    chunk                  rate_chunk -> _Chunk.rate() (this module): scan() = stages 1-5, then
        |                  finish() = 6 and the reference (rate_chunk_in_two: finish on another thread)
        |   bulk_chunk     the inputs conformed and checked; the arrays the stages set
        |   bulk_order     1. rating order; the chunk's subscribers; malformed, unknown
        |   bulk_scan      5a. balances as arrays; the chunk's volume scale (6 or 12 decimals)
        |   bulk_decide    2. rule decisions   3. prices   4. payer plans
        |   bulk_scan      5b. accumulator totals as arrays, then the scan
        |   bulk_output    6. charges per payer, reasons, the rated frame, the new state
        |   (this module)  the subscribers the scan left alone, rated by the reference
        |
        |   bulk_kernels   the numba-compiled loops of 3. (_price_all) and 5b. (_scan), and
        |                  what they call: exact int64 arithmetic, charges, caps
        |   bulk_tables    the rule book as decision expressions and numeric tables (once
        |                  per book) and the subscribers as one sorted table (once per frame)
        v
    rated frame + new BulkState
        |   bulk_write     RatedWriter: CSV, JSON lines or Parquet (on bulk_io's writer
        |                  thread; Parquet by polars' streaming engine, amounts at the
        |                  minor unit); write_state: buckets.jsonl, accumulators.jsonl
        v
    rated file, state folder

Imports go one way, down this list (a module imports only modules below it): bulk_io,
bulk_write, bulk_read, bulk, bulk_output, bulk_scan, bulk_decide, bulk_order, bulk_chunk,
bulk_tables, bulk_kernels, bulk_frames. Callers import from here
(and from :mod:`bulk_io` for files): the other modules are the parts, their names private to
bulk rating.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.pricing.bulk_decide import _Deciding
from bssrules.pricing.bulk_frames import (
    ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, MONEY_DIGITS, RATED_SCHEMA, RECORD_SCHEMA, SCAN_DIGITS, SUBSCRIBER_SCHEMA,
    VOLUME_DIGITS, BulkState, conform, decimal_column, frame_money_digits, money_digits, money_schema, rated_frame,
    rated_usages, records_frame, scaled_integers, subscribers_frame, subscribers_of, usage_records, with_money_digits,
)
from bssrules.pricing.bulk_order import rating_order
from bssrules.pricing.bulk_output import _Assembling
from bssrules.pricing.bulk_scan import _Scanning
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import RatedUsage
from bssrules.rules.book import RuleBook


def rate_chunk(records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, state: BulkState,
               timings: dict[str, float] | None = None) -> tuple[pl.DataFrame, BulkState]:
    """Rate a chunk of records (:data:`RECORD_SCHEMA`) of subscribers
    (:data:`SUBSCRIBER_SCHEMA`) with the balances and totals of ``state``; return the
    rated frame (:data:`RATED_SCHEMA`, in rating order, its amounts with the decimals of the
    book's currencies — :func:`money_digits`: 2.50 EUR, as the API writes them) and the new state.

    Every subscriber of the chunk must have all its records of the period in the chunk,
    in this call or in calls made later with the state this one returns (what a partition
    by subscriber gives). ``timings``, when given, receives the seconds spent per stage."""
    return _Chunk(records, subscribers, book, state, timings).rate()


def rate_chunk_in_two(records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, state: BulkState,
                      timings: dict[str, float] | None = None) -> Callable[[], tuple[pl.DataFrame, BulkState]]:
    """:func:`rate_chunk` in two halves: the rating order, the decisions and the scan now (on
    this thread), and a function that gives what :func:`rate_chunk` gives — it assembles the
    rated frame and the new state, and rates the subscribers left to the reference — which
    may be called on another thread: a file's chunks are scanned on one thread while the one
    before is assembled and written on another, so that both cores work (the halves take
    about the same time)."""
    return order_chunk(records, subscribers, book, state, timings)()


def order_chunk(records: pl.DataFrame, subscribers: pl.DataFrame, book: RuleBook, state: BulkState,
                timings: dict[str, float] | None = None
                ) -> Callable[[], Callable[[], tuple[pl.DataFrame, BulkState]]]:
    """:func:`rate_chunk_in_two` in three parts: the chunk's inputs checked, its records put
    in rating order and its balances read now, and a function that decides, prices and scans
    them and gives the finishing half (``order_chunk(...)()`` is ``rate_chunk_in_two(...)``).
    Each part may run on a thread of its own, one after the other: a file's next partition is
    read back and ordered on the thread that reads it while the one before is scanned (the
    order and the balances: about 50 of the 105 ms of CPU per chunk of 200,000 records of
    the calling thread's half)."""
    chunk = _Chunk(records, subscribers, book, state, timings)
    chunk.order()
    return chunk.decide_and_scan


class _Chunk(_Deciding, _Scanning, _Assembling):
    """One call of :func:`rate_chunk`: the arrays of its steps (declared in
    :class:`~bssrules.pricing.bulk_chunk._ChunkBase`, set by the stages mixed in here)."""

    def _reference(self, fallback_subs: NDArray[np.int64]) -> tuple[pl.DataFrame, BulkState, NDArray[np.int64]]:
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
                    # both made before either is kept: a state that cannot be written (a failure of
                    # from_rating_state) must not leave this subscriber's rated rows behind twice
                    frame, state_of = rated_frame(results), BulkState.from_rating_state(new_state)
                    frames.append(frame)
                    states.append(state_of)
                except Exception as exc:  # noqa: BLE001 - reported on each record
                    frames.append(rated_frame([RatedUsage(r, "rejected", ({"code": "ratingError", "label": str(exc)},))
                                               for r in mine]))
                    states.append(own_state)
        state_out = BulkState(pl.concat([s.buckets for s in states]), pl.concat([s.accumulators for s in states]))
        return pl.concat(frames), state_out, rows

    def rate(self) -> tuple[pl.DataFrame, BulkState]:
        """All of it: :meth:`scan`, then :meth:`finish`."""
        self.scan()
        return self.finish()

    def scan(self) -> None:
        """Stages 1 to 5 (the balances before the decisions: these read the volumes at the
        chunk's scale). What :meth:`finish` reads is set on the chunk."""
        self.order()
        self.decide_and_scan()

    def order(self) -> None:
        """Stage 1 and the balances (5a); the records as given are let go (the chunk keeps
        them in rating order)."""
        self._order()
        self.records = self.records.clear()
        self.stages.done("order")
        self._buckets()
        self.stages.done("balances")

    def decide_and_scan(self) -> Callable[[], tuple[pl.DataFrame, BulkState]]:
        """Stages 2 to 5, after :meth:`order` (maybe on another thread); :meth:`finish`."""
        self.stages.last = time.perf_counter()  # the time since the order is no stage's
        self._decide()
        self._price()
        self._payers()
        self._scan()
        return self.finish

    def finish(self) -> tuple[pl.DataFrame, BulkState]:
        """Stage 6, then the reference for the subscribers the scan left alone: the rated
        frame and the new state. Reads only what :meth:`scan` set, so it may run on another
        thread while the next chunk is scanned."""
        self.stages.last = time.perf_counter()  # the time between scan and finish is no stage's
        out = self._assemble()
        self.stages.done("assemble")
        new_state = self._new_state()
        fallback_subs = np.nonzero(self.fallback[:self.n_subs])[0]
        if fallback_subs.shape[0]:
            reference_frame, reference_state, rows = self._reference(fallback_subs)
            position = np.arange(out.height)
            keep = np.ones(out.height, bool)
            keep[rows] = False
            reference_frame = with_money_digits(reference_frame, self.tables.money_digits)
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


__all__ = ["rate_chunk", "rate_chunk_in_two", "order_chunk", "BulkState", "records_frame", "usage_records", "subscribers_frame", "subscribers_of",
           "rated_usages", "rated_frame", "conform", "rating_order", "scaled_integers", "decimal_column",
           "RECORD_SCHEMA", "SUBSCRIBER_SCHEMA", "BUCKET_SCHEMA", "ACCUMULATOR_SCHEMA", "RATED_SCHEMA",
           "VOLUME_DIGITS", "MONEY_DIGITS", "SCAN_DIGITS", "money_digits", "money_schema", "frame_money_digits",
           "with_money_digits"]
