"""Stage 1 of a chunk: the records in rating order, the chunk's subscribers, and which
records cannot be rated whatever the rules say (malformed, or of an unknown subscriber).

:func:`rating_order` sorts as :func:`bssrules.pricing.rating.rating_order` does;
:class:`_Ordering` ranks the chunk's subscribers by id — those with a subscription and those
without, as the reference sorts them — and gives every later stage its per-record and
per-subscriber indexes (``sub``, ``subs``).
"""
from __future__ import annotations

from typing import cast

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.pricing.bulk_chunk import _ChunkBase
from bssrules.pricing.bulk_frames import PAYER, SUBSCRIBER_SCHEMA, conform, usage_records
from bssrules.pricing.bulk_kernels import _by_subscriber_and_start, _compiled


def rating_order(subscriber_rank: NDArray[np.int64], start: NDArray[np.int64], ids: pl.Series,
                 records: pl.DataFrame | None = None) -> NDArray[np.int64]:
    """The permutation that sorts records as ``rating.rating_order`` does: by (subscriber,
    start, id) — a stable sort by rank and microseconds, ties broken by id — then, for
    records sharing all three, by the text of the record (``records``)."""
    n = subscriber_rank.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    if int(subscriber_rank.min()) >= -1:
        # a stable sort by rank and start, compiled: counting by rank, then each subscriber's
        # records by start (numpy's unstable sort of one integer key of both, then the equal
        # keys put back in their given order, took twice as long)
        order = _compiled(_by_subscriber_and_start)(subscriber_rank.astype(np.int64) + 1, start.astype(np.int64),
                                                    int(subscriber_rank.max()) + 2)
    else:
        order = np.lexsort((start, subscriber_rank))
    ranks, starts = subscriber_rank[order], start[order]
    tie = (ranks[1:] == ranks[:-1]) & (starts[1:] == starts[:-1])
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


def _order_duplicates(order: NDArray[np.int64], places: NDArray[np.int64], run: NDArray[np.int64],
                      same: NDArray[np.bool_], records: pl.DataFrame) -> None:
    """Records sharing subscriber, start and id, in the order of their text (``repr``), as the
    reference breaks such ties (its text keeps the start's own offset; here it is UTC)."""
    group = np.concatenate([[0], np.cumsum(~same[1:])]) if same.shape[0] else same.astype(np.int64)
    for g in np.unique(group[same]):
        members = places[group == g]
        rows = order[members]
        texts = [repr(r) for r in usage_records(records[rows].with_columns(malformed=pl.lit(None, pl.Utf8)))]
        order[members] = rows[np.argsort(np.array(texts, dtype=object), kind="stable")]


class _Ordering(_ChunkBase):
    """1. order, subscribers, what cannot be rated."""

    def _order(self) -> None:
        subs, rank = self._subscriber_ranks()
        # a malformed start sorts after the well-formed ones of its subscriber, as in the reference
        micros = self.records["start"].dt.epoch("us")
        latest = cast(int, micros.max() or 0)  # microseconds: an Int64 column
        start = micros.fill_null(latest + 1).to_numpy()
        order = rating_order(rank, start, self.records["id"], self.records)
        sub = rank[order]
        frame = self.records[order].with_columns(sub=pl.Series(sub))
        self.subs = subs
        self.n_subs = subs.height
        known_sub = np.concatenate([subs["known"].to_numpy(), [False]])  # index -1: no subscriber
        self.malformed = self.records["malformed"].is_not_null().to_numpy()[order]
        self.unknown = ~self.malformed & ~known_sub[sub]
        self.candidate = ~self.malformed & ~self.unknown
        self.fallback = np.zeros(self.n_subs + 1, bool)  # index -1 (no subscriber) never used
        self.frame = frame
        self.sub = sub
        self.start = np.where(micros.is_not_null().to_numpy()[order], start[order], 0)
        self.local_starts = {}

    def _subscriber_ranks(self) -> tuple[pl.DataFrame, NDArray[np.int64]]:
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
