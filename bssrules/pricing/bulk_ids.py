"""Record ids given twice in one bulk run: the first, in file order, is rated; every later
record with its id is rejected ``duplicateId`` (as the online path rates an id once).

The ids are read in file order (:func:`bssrules.pricing.bulk_io.rate_file` reads the usage a
batch at a time before it is cut into partitions), so which record is "first" depends on
the file alone, never on how it is partitioned or chunked. A record rejected for what it
says (``malformed``) keeps that reason; its id still counts as given.

The ids seen so far are not kept as texts (10,000,000 ids would cost more memory than a
chunk of records): each id is kept as two independent 64-bit hashes (polars' hash under two
seeds) in an open-addressing table that a compiled loop probes and fills in file order
(:func:`bssrules.pricing.bulk_kernels._seen_ids`), at most 70 % full: 16 bytes a slot, about
23 bytes an id (sized once for the file's records when their number is known, doubled when
it fills). A record is a duplicate when both hashes match an earlier id's: were they
independent, two distinct ids among 10,000,000 would agree on both with a chance of about
10^-25; a 64-bit hash alone would give 3 in 1,000,000 per run.

Across runs nothing is kept: rating a file twice rates it twice (docs/bulk-rating.md says
what an operator does about it).
"""
from __future__ import annotations

import mmap

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.pricing.bulk_kernels import _compiled, _seen_ids

DUPLICATE_ID = "duplicateId"
# the ``malformed`` text of a duplicate starts with this: bulk_output tells the reason code by it
# (no problem text of bulk_read starts with it: those are sentences)
DUPLICATE_MARK = DUPLICATE_ID + ": "
_SEEDS = (0x5EED_0001, 0x0BAD_CAFE)
_FULLEST = 0.7  # the share of the table's slots that may hold ids (linear probing stays short)
_SMALLEST = 1 << 12  # slots


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
    batch's records repeat an id seen before (in an earlier batch or earlier in the batch).
    ``expected``: how many records the run will give (its table is sized once for them)."""

    def __init__(self, expected: int = 0) -> None:
        self._count = 0
        self._table1, self._table2 = _empty_table(_slots_for(expected))

    def repeated(self, ids: pl.Series) -> NDArray[np.bool_]:
        """Which of ``ids`` (a batch, in file order) were seen before; they are all seen
        after. A missing id (null) is never a repeat (it is malformed anyway)."""
        present = ids.is_not_null().to_numpy()
        first, second = id_hashes(ids)
        if self._count + first.shape[0] > _FULLEST * self._table1.shape[0]:
            self._grow(_slots_for(self._count + first.shape[0]))
        repeat, added = _compiled(_seen_ids)(self._table1, self._table2, first, second, present,
                                             _shift(self._table1.shape[0]))
        self._count += added
        return repeat

    def mark(self, records: pl.DataFrame) -> pl.DataFrame:
        """A batch of :data:`~bssrules.pricing.bulk_frames.RECORD_SCHEMA` with its repeated
        ids rejected: ``malformed`` set to the duplicate's reason (a malformed record keeps
        its own reason)."""
        repeat = self.repeated(records["id"])
        if not repeat.any():
            return records
        return mark_repeated(records, pl.Series(repeat))

    def _grow(self, slots: int) -> None:
        """The ids held moved into a table of ``slots`` slots."""
        held = self._table1 != 0
        first, second = self._table1[held], self._table2[held]
        self._table1, self._table2 = _empty_table(slots)
        self._count = 0  # the held ids are all distinct: each is added again
        _, self._count = _compiled(_seen_ids)(self._table1, self._table2, first, second,
                                              np.ones(first.shape[0], np.bool_), _shift(slots))


def _slots_for(ids: int) -> int:
    """The slots of a table that holds ``ids`` ids (a power of two, at most 70 % full)."""
    slots = _SMALLEST
    while ids > _FULLEST * slots:
        slots *= 2
    return slots


def _shift(slots: int) -> int:
    """How far a product of 64 bits is shifted to give a slot among ``slots`` (a power of two)."""
    return 64 - (slots.bit_length() - 1)


def _empty_table(slots: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    return _zeros(slots), _zeros(slots)


def _zeros(slots: int) -> NDArray[np.uint64]:
    """``slots`` zeros, in huge pages where the system gives them (Linux's transparent huge
    pages, asked for with ``madvise``): the probes land anywhere in a table of 128 MB at
    10,000,000 ids, and with 4 kB pages most of them missed the TLB too — the ids check of
    10,000,000 ids took 0.84-1.21 s of CPU in 4 kB pages, 0.50-0.53 s in huge pages (three
    runs each, alternating). Elsewhere (or below 2 MB), plain zeros."""
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    size = slots * 8
    if advice is None or size < 1 << 21:
        return np.zeros(slots, np.uint64)
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # zeros; freed with the array
    try:
        memory.madvise(advice)
    except OSError:  # not allowed here: 4 kB pages, the same zeros
        pass
    return np.frombuffer(memory, np.uint64)


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


__all__ = ["SeenIds", "DUPLICATE_ID", "DUPLICATE_MARK", "duplicate_label", "mark_repeated_within", "id_hashes"]
