"""Record ids given twice in one bulk run: the first, in file order, is rated; every later
record with its id is rejected ``duplicateId`` (as the online path rates an id once).

The ids are read in file order (:func:`bssrules.pricing.bulk_io.rate_file` reads the usage a
batch at a time before it is cut into partitions), so which record is "first" depends on
the file alone, never on how it is partitioned or chunked. A record rejected for what it
says (``malformed``) keeps that reason; its id still counts as given.

The ids seen so far are not kept as texts (10,000,000 ids would cost more memory than a
chunk of records): each id is kept as two independent 64-bit hashes, in sorted runs merged
as they grow (a log-structured set: each id is copied O(log n) times). A record is a
duplicate when both hashes (polars' hash under two seeds) match an earlier id's: were they
independent, two distinct ids among 10,000,000 would agree on both with a chance of about
10^-25; a 64-bit hash alone would give 3 in 1,000,000 per run.

Across runs nothing is kept: rating a file twice rates it twice (docs/bulk-rating.md says
what an operator does about it).
"""
from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

DUPLICATE_ID = "duplicateId"
# the ``malformed`` text of a duplicate starts with this: bulk_output tells the reason code by it
# (no problem text of bulk_read starts with it: those are sentences)
DUPLICATE_MARK = DUPLICATE_ID + ": "
_SEEDS = (0x5EED_0001, 0x0BAD_CAFE)

_Run = tuple[NDArray[np.uint64], NDArray[np.uint64]]  # first hashes sorted, second hashes beside


def duplicate_label(record_id: pl.Expr) -> pl.Expr:
    """What a duplicate's reason says (after :data:`DUPLICATE_MARK`)."""
    return pl.format(DUPLICATE_MARK + "the id '{}' is that of a record earlier in the file, the one rated "
                     "(an id is rated once)", record_id)


def id_hashes(ids: pl.Series) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """Two independent 64-bit hashes of each id (polars' hash, fixed seeds: the same within a
    run, which is all that is asked of them)."""
    first = ids.hash(_SEEDS[0]).to_numpy()
    second = ids.hash(_SEEDS[1]).to_numpy()
    return first, second


class SeenIds:
    """The ids of one run's records so far, in file order: :meth:`mark` says which of a
    batch's records repeat an id seen before (in an earlier batch or earlier in the batch)."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def repeated(self, ids: pl.Series) -> NDArray[np.bool_]:
        """Which of ``ids`` (a batch, in file order) were seen before; they are all seen
        after. A missing id (null) is never a repeat (it is malformed anyway)."""
        present = ids.is_not_null().to_numpy()
        first, second = id_hashes(ids)
        repeat = _repeated_within(first, second)
        # the batch's hashes sorted once: the runs are searched with sorted keys (each search
        # starts where the one before ended: a quarter of the time of keys in file order)
        order = np.argsort(first)  # (any order of equal hashes: _in_run looks at them all)
        first_sorted, second_sorted = first[order], second[order]
        for run in self._runs:
            repeat[order] |= _in_run(run, first_sorted, second_sorted)
        repeat &= present
        keep = (present & ~repeat)[order]
        self._add(first_sorted[keep], second_sorted[keep])
        return repeat

    def mark(self, records: pl.DataFrame) -> pl.DataFrame:
        """A batch of :data:`~bssrules.pricing.bulk_frames.RECORD_SCHEMA` with its repeated
        ids rejected: ``malformed`` set to the duplicate's reason (a malformed record keeps
        its own reason)."""
        repeat = self.repeated(records["id"])
        if not repeat.any():
            return records
        return mark_repeated(records, pl.Series(repeat))

    def _add(self, first: NDArray[np.uint64], second: NDArray[np.uint64]) -> None:
        """A run of ids (``first`` sorted)."""
        self._runs.append((first, second))
        # merge while the newest run is at least half as long as the one before: O(log n) runs
        while len(self._runs) > 1 and 2 * self._runs[-1][0].shape[0] >= self._runs[-2][0].shape[0]:
            newer, older = self._runs.pop(), self._runs.pop()
            self._runs.append(_merged(older, newer))


def _merged(older: _Run, newer: _Run) -> _Run:
    """Two runs as one, sorted: each of the newer's hashes placed after the older's not
    greater (a search with sorted keys, linear: no sort)."""
    (a1, a2), (b1, b2) = older, newer
    at = np.searchsorted(a1, b1, side="right") + np.arange(b1.shape[0])
    first, second = np.empty(a1.shape[0] + b1.shape[0], np.uint64), np.empty(a1.shape[0] + b1.shape[0], np.uint64)
    old = np.ones(first.shape[0], bool)
    old[at] = False
    first[at], second[at] = b1, b2
    first[old], second[old] = a1, a2
    return first, second


def mark_repeated(records: pl.DataFrame, repeat: pl.Series) -> pl.DataFrame:
    """``records`` with those ``repeat`` says rejected as duplicates (unless already malformed)."""
    return records.with_columns(malformed=pl.when(repeat & pl.col("malformed").is_null())
                                .then(duplicate_label(pl.col("id"))).otherwise(pl.col("malformed")))


def mark_repeated_within(records: pl.DataFrame) -> pl.DataFrame:
    """The repeated ids of one frame (in its order) rejected as duplicates: what a cluster's
    partition checks, since the ids of other partitions are not at hand there."""
    repeat = pl.col("id").is_not_null() & ~pl.col("id").is_first_distinct()
    flags = records.select(repeat).to_series()
    return mark_repeated(records, flags) if flags.any() else records


def _repeated_within(first: NDArray[np.uint64], second: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which pairs repeat one earlier in the same batch: by the first hash (cheap), confirmed
    by both when the first finds any."""
    repeat = ~pl.Series(first).is_first_distinct().to_numpy()
    if repeat.any():
        pairs = pl.DataFrame({"a": first, "b": second})
        repeat = ~pairs.select(pl.struct("a", "b").is_first_distinct()).to_series().to_numpy()
    return repeat


def _in_run(run: _Run, first: NDArray[np.uint64], second: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which (first, second) pairs a run holds (``first`` sorted, as the run's)."""
    run_first, run_second = run
    found = np.zeros(first.shape[0], bool)
    if not run_first.shape[0]:
        return found
    left = np.searchsorted(run_first, first, side="left")
    inside = np.minimum(left, run_first.shape[0] - 1)
    hit = (left < run_first.shape[0]) & (run_first[inside] == first)
    found[hit] = run_second[inside[hit]] == second[hit]
    # the first hash of several ids of the run and not the first of them: next to never
    for row in np.nonzero(hit & ~found)[0].tolist():
        at = int(left[row]) + 1
        while at < run_first.shape[0] and run_first[at] == first[row]:
            if run_second[at] == second[row]:
                found[row] = True
                break
            at += 1
    return found


__all__ = ["SeenIds", "DUPLICATE_ID", "DUPLICATE_MARK", "duplicate_label", "mark_repeated_within", "id_hashes"]
