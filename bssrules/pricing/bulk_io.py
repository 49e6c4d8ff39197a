"""Usage files in, rated files out: bulk rating of files of any size in bounded memory.

:func:`rate_file` reads a usage file (CSV, JSON lines or Parquet, told by its extension) in
batches, checks every row (a bad date, a negative or non-numeric volume, a missing id,
subscriber or service make the row ``malformed``: it is kept and rejected, never dropped),
and spreads the rows over partition files by subscriber when the file holds more than one
chunk — so that each partition holds all the usage of its subscribers and can be rated on
its own (:func:`bssrules.pricing.bulk.rate_chunk`) with their balances and totals. Each
rated partition is written out at once, in the format of the output file's extension.
Memory is bounded by the chunk size, whatever the size of the file.

Inputs:

- usage: ``id, subscriber, service, start`` (ISO 8601 with a zone, or a zoned timestamp),
  ``volume``, and optionally ``unit, type, roaming, country``;
- subscribers: ``id, partyId, classification, offering, activeOfferings`` (a list: a JSON
  list, or ``;``-separated in a CSV cell), ``payers`` (a JSON object role -> billing account,
  or columns ``payer.<role>``), ``splitBilling``;
- balances (``--buckets``) and accumulator totals as JSON lines; the new ones are written
  as JSON lines (``buckets.jsonl``, ``accumulators.jsonl``) in the state folder, with the
  names they are read with (``validFrom``, ``validTo``).

Every file's columns are checked before anything is rated (unknown, twice, or a required one
missing: an error naming the file and the column, with a "did you mean"); docs/bulk-rating.md
describes the formats. ``progress``, when given, is called as records are read and rated.

Output: the columns of :data:`bssrules.pricing.bulk.RATED_SCHEMA` named in camelCase
(:data:`bssrules.pricing.bulk_frames.OUTPUT_NAMES`), partition after
partition, each in rating order (subscriber, start, id) — a record rated up to a cap has its
``refusedVolume`` (in its own unit) and the cap's reason; in CSV the nested columns
(``charges``, ``buckets``, ``events``, ``reasons``) are JSON text. Amounts are written
exactly (decimal text in CSV and JSON lines — money with its currency's decimals —, decimal
columns in Parquet). A chunk is scanned (ordered, decided, priced, its balances and totals
run through) on the calling thread while the one before is assembled and written on a
thread of its own, and the next partition read back (and put in rating order, its balances
read: :func:`~bssrules.pricing.bulk.order_chunk`) on another.

The steps, by module: the files are read and checked in :mod:`bssrules.pricing.bulk_read`,
rated by :func:`bssrules.pricing.bulk.rate_chunk` (whose docstring draws the whole
pipeline), and written by :mod:`bssrules.pricing.bulk_write`; this module runs a file
through them — counting its rows, partitioning by subscriber (spilled to Arrow files), one
chunk at a time, the writer on its own thread — and keeps their names importable from here.
"""
from __future__ import annotations

import gc
import math
import queue
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Generator, Iterator, TypeVar

# the allocators tuned before polars loads (it reads its allocator's settings then)
from bssrules.pricing import bulk_memory  # noqa: F401,I001 - imported for its effect, first

import numpy as np
from numpy.typing import NDArray
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from bssrules.errors import InvalidInput
from bssrules.money import quantum
from bssrules.pricing.bulk import order_chunk
from bssrules.pricing.bulk_frames import (
    ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, IN_MEMORY, RECORD_SCHEMA, BulkState, scaled_integers,
)
from bssrules.pricing.bulk_ids import SeenIds
from bssrules.pricing.bulk_read import (
    FORMATS, check_usage_columns, file_format, normalize_usage, read_accumulators, read_buckets, read_subscribers, read_usage_batches,
    state_names, usage_files,
)
from bssrules.pricing.bulk_tables import _subscription_table_parts
from bssrules.pricing.bulk_write import RatedWriter, write_state
from bssrules.rules.book import RuleBook

DEFAULT_CHUNK_SIZE = 200_000  # the peak RSS of the benchmark: 887-956 MB (160,000: 869 MB; 500,000: 1.3-1.5 GB)
# texts longer than 12 bytes (not held in their string views: UUID record ids) take more memory
# per record than their own bytes while a chunk is rated (5,000,000 records of 36-byte random ids
# at 200,000 a chunk: 1,096-1,160 MB against 908-927 MB with 11-byte ids); the default chunk is
# cut to DEFAULT_CHUNK_SIZE * SHORT_RECORD / (SHORT_RECORD + those bytes), see default_chunk_size
SHORT_RECORD = 36
_HASH_SEED = 20260601
STATE_NAMES = {"valid_from": "validFrom", "valid_to": "validTo"}  # the state files' names for BUCKET_SCHEMA's

# progress(stage, done, total): stage "read" (records read so far) or "rate" (records rated
# and written so far); total: the records the file holds (for text files, its lines)
Progress = Callable[[str, int, int], None]


@dataclass
class RatingSummary:
    """What a run did: records in, rated, rejected by reason, totals per currency, time."""

    records: int = 0
    rated: int = 0
    partly_rated: int = 0  # rated up to a cap, the rest refused (counted in ``rated`` too)
    rejected: Counter[str] = field(default_factory=Counter)
    totals: dict[str, Decimal] = field(default_factory=dict)
    by_reference: int = 0
    partitions: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def add(self, frame: pl.DataFrame) -> None:
        self.records += frame.height
        rated = frame["status"] == "rated"
        self.rated += int(rated.sum())
        self.partly_rated += int((rated & (frame["refused_volume"] > 0)).sum())
        self.by_reference += int((frame["rated_by"] == "reference").sum())
        lazy = frame.lazy()  # the filters read only the columns they need, not the whole frame
        for code, count in lazy.filter(pl.col("status") == "rejected").group_by("reason_code").len() \
                .collect(engine=IN_MEMORY).iter_rows():
            self.rejected[code] += count
        for currency, amount in _totals(frame, rated):
            total = self.totals.get(currency, Decimal(0)) + amount
            self.totals[currency] = total.quantize(quantum(currency))


def _totals(frame: pl.DataFrame, rated: pl.Series) -> list[tuple[str, Decimal]]:
    """The sum of the rated records' amounts per currency: the amounts' integers (at their
    column's scale) summed by numpy where they and their sum fit 64 bits — polars' sum of a
    128-bit decimal column by group took half the summary's time —, else by polars. (A rated
    record has a currency: a null one is summed apart, as polars' group of nulls would be.)"""
    amount = frame["amount"]
    chosen = rated.fill_null(False).to_numpy()
    if isinstance(amount.dtype, pl.Decimal) and chosen.any():
        scale = amount.dtype.scale or 0
        values, exact = scaled_integers(amount, scale)  # nulls: 0, as a sum leaves them out
        taken = values[chosen]
        largest = max(abs(int(taken.min())), abs(int(taken.max())))
        if exact[chosen].all() and largest <= np.iinfo(np.int64).max // taken.shape[0]:
            currency = frame["currency"]

            def of(name: str | None) -> NDArray[np.bool_]:
                mine = currency.is_null() if name is None else (currency == name).fill_null(False)
                found: NDArray[np.bool_] = chosen & mine.to_numpy()
                return found

            first: str = currency[int(np.argmax(chosen))]
            names = [first] if (of(first) == chosen).all() else currency.filter(rated).unique().to_list()
            return [(name, Decimal(int(values[of(name)].sum())).scaleb(-scale)) for name in names]
    return [(currency, Decimal(total)) for currency, total in
            frame.lazy().filter(pl.col("status") == "rated").group_by("currency").agg(pl.col("amount").sum())
            .collect(engine=IN_MEMORY).iter_rows()]


class _BackgroundWriter:
    """Finishes scanned chunks (:func:`~bssrules.pricing.bulk.rate_chunk_in_two`: assembles the
    rated frame and the new state) and writes them, on a thread of its own while the next chunk is scanned (both
    halves take about the same time; polars, numpy and the compiled loops release the GIL).
    A chunk is handed over when the thread takes it, so that at most two chunks are held —
    one being scanned, one being finished and written — and memory stays bounded.

    Each chunk's new state (its subscribers' balances and totals) is spilled to an Arrow file
    in ``spill`` and read back once every chunk is written (:meth:`new_states`): held in memory,
    these small frames lived among each chunk's short-lived arrays for the whole run, and the
    allocator's pages grew with the chunks rated (10,000,000 records: the peak RSS 40-60 MB
    higher at the end of a run than after its first chunks)."""

    def __init__(self, writer: RatedWriter, summary: RatingSummary, progress: Callable[[int], None] | None = None,
                 spill: Path | None = None, keep: bool = True):
        self.writer, self.summary, self.progress = writer, summary, progress
        self.queue: queue.Queue[Callable[[], tuple[pl.DataFrame, BulkState]] | None] = queue.Queue(maxsize=1)
        self.failure: BaseException | None = None
        self.spill, self.keep = spill, keep  # keep: the new states are asked for (else they go)
        self.states: list[BulkState | tuple[Path, Path]] = []  # the chunks' new states (or their files), in order
        self.thread = threading.Thread(target=self._run, name="bssrules-rated-writer", daemon=True)
        self.thread.start()

    def _keep(self, state: BulkState) -> None:
        if not self.keep:
            return
        if self.spill is None:
            self.states.append(state)
            return
        paths = (self.spill / f"state-{len(self.states):05d}-buckets.arrow",
                 self.spill / f"state-{len(self.states):05d}-totals.arrow")
        state.buckets.write_ipc(paths[0])
        state.accumulators.write_ipc(paths[1])
        self.states.append(paths)

    def new_states(self) -> list[BulkState]:
        """The chunks' new states, in the order their chunks were put (read back from ``spill``)."""
        return [kept if isinstance(kept, BulkState) else
                BulkState(pl.read_ipc(kept[0].read_bytes()), pl.read_ipc(kept[1].read_bytes()))
                for kept in self.states]

    def _run(self) -> None:
        while True:
            finish = self.queue.get()
            self.queue.task_done()  # taken: put() returns
            if finish is None:
                return
            if self.failure is not None:
                continue  # drain, so that put() never blocks forever
            try:
                frame, state = finish()
                finish = None  # the chunk's arrays go now, not when the next one comes
                self._keep(state)
                del state
                began = time.perf_counter()
                self.summary.add(frame)
                self.writer.write(frame)
                del frame  # held by the writer as long as it needs it, no longer
                if self.progress is not None:
                    self.progress(self.summary.records)
                self.summary.timings["write (in the background)"] = \
                    self.summary.timings.get("write (in the background)", 0.0) + time.perf_counter() - began
            except BaseException as exc:  # noqa: BLE001 - handed to the rating thread
                self.failure = exc

    def put(self, finish: Callable[[], tuple[pl.DataFrame, BulkState]]) -> None:
        if self.failure is not None:
            raise self.failure
        self.queue.put(finish)
        self.queue.join()

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        try:
            self.writer.close()
        finally:
            if self.failure is not None:
                raise self.failure


def _row_count(path: Path, kind: str) -> int:
    """Rows in a usage file or Parquet dataset folder (lines for text files, counted without parsing)."""
    if kind == "parquet":
        return sum(pq.ParquetFile(file).metadata.num_rows for file in usage_files(path))  # pyarrow is untyped
    count = 0
    last = b"\n"
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            count += block.count(b"\n")
            last = block[-1:]
    count += last != b"\n"  # a last line without its newline
    return max(0, count - 1) if kind == "csv" else count  # the CSV header is no record


def _partition_of(subscriber: pl.Expr, partitions: int) -> pl.Expr:
    return (subscriber.hash(seed=_HASH_SEED) % partitions).cast(pl.Int64).fill_null(0)


def rate_file(book: RuleBook, usage: Path, subscribers: Path, output: Path, *, buckets: Path | None = None,
              accumulators: Path | None = None, state_out: Path | None = None,
              chunk_size: int | None = None, progress: Progress | None = None,
              seen_ids: SeenIds | None = None) -> RatingSummary:
    """Rate a usage file into ``output``; write the new balances and totals into
    ``state_out`` when given. At most about ``chunk_size`` records are rated at once (by
    default :func:`default_chunk_size`: fewer when the records' texts are long).
    Every file's columns are checked before any record is rated. A record whose id came
    earlier in the file — or in ``seen_ids``, the ids of the files rated before it in the
    same run (a month at a time) — is rejected ``duplicateId``."""
    if chunk_size is not None and chunk_size < 1:
        raise InvalidInput("the chunk size must be at least 1")
    began = time.perf_counter()
    summary = RatingSummary()
    timings = summary.timings
    kind = file_format(usage_files(usage)[0])  # a folder: a Parquet dataset
    file_format(output)
    check_usage_columns(usage)  # before anything is written: a wrong column is the file's error, not each row's
    if chunk_size is None:
        chunk_size = default_chunk_size(usage)
    rows = _row_count(usage, kind)
    partitions = max(1, math.ceil(rows / chunk_size))
    summary.partitions = partitions
    read_progress = None if progress is None else (lambda done: progress("read", done, rows))

    def subscribers_and_state() -> tuple[pl.DataFrame, BulkState]:
        stopwatch = time.perf_counter()
        with _collector_paused():
            frame = read_subscribers(subscribers)
            names = state_names(book)
            given = BulkState(read_buckets(buckets, names) if buckets else pl.DataFrame(schema=BUCKET_SCHEMA),
                              read_accumulators(accumulators, names) if accumulators
                              else pl.DataFrame(schema=ACCUMULATOR_SCHEMA))
        timings["read subscribers and state (background)"] = time.perf_counter() - stopwatch
        return frame, given

    with tempfile.TemporaryDirectory(prefix="bssrules-rating-") as spill:
        (subscriber_frame, state), cut = _beside(
            subscribers_and_state,
            lambda: _cut(usage, partitions, Path(spill), timings, read_progress, seen_ids or SeenIds(expected=rows)))
        states = _state_partitions(state, partitions)
        subscriber_parts = _subscriber_partitions(subscriber_frame, partitions)

        def ordered(index: int, records: pl.DataFrame) -> Callable[[], Callable[[], tuple[pl.DataFrame, BulkState]]]:
            """A partition's records in rating order (on the thread that reads it back)."""
            scan = order_chunk(records, subscriber_parts[index], book, states[index], timings)
            states[index] = BulkState.empty()  # taken: its frames go with the chunk
            subscriber_parts[index] = subscriber_frame.clear()
            return scan

        # made once every file is read: a file that cannot be read leaves no output behind
        writer = _BackgroundWriter(RatedWriter(output), summary,
                                   None if progress is None else (lambda done: progress("rate", done, rows)),
                                   Path(spill) if partitions > 1 else None, keep=state_out is not None)
        try:
            with closing(_read_back(cut, timings, ordered)) as chunks:
                del cut  # a single partition's records go with its chunk
                for scan in chunks:
                    finish = scan()
                    del scan
                    stopwatch = time.perf_counter()
                    writer.put(finish)
                    del finish
                    timings["wait for the writer"] = timings.get("wait for the writer", 0.0) \
                        + time.perf_counter() - stopwatch
        finally:
            stopwatch = time.perf_counter()
            writer.close()
            timings["wait for the writer"] = timings.get("wait for the writer", 0.0) \
                + time.perf_counter() - stopwatch
        new_states = writer.new_states()
    if state_out is not None:
        stopwatch = time.perf_counter()
        final = BulkState(pl.concat([s.buckets for s in new_states]) if new_states else state.buckets,
                          pl.concat([s.accumulators for s in new_states]) if new_states else state.accumulators)
        write_state(state_files(final), Path(state_out))
        timings["write state"] = time.perf_counter() - stopwatch
    summary.seconds = time.perf_counter() - began
    return summary


_T = TypeVar("_T")
_U = TypeVar("_U")


def default_chunk_size(usage: Path, sample: int = 10_000) -> int:
    """Records rated at once by default: :data:`DEFAULT_CHUNK_SIZE`, fewer when the texts of
    the first ``sample`` records (their ids, subscribers, services, units) are longer than the
    12 bytes a string view holds — ``DEFAULT_CHUNK_SIZE * SHORT_RECORD / (SHORT_RECORD + b)``
    for ``b`` bytes of such texts per record (36-byte UUID ids: 100,000 records)."""
    first = next(iter(read_usage_batches(usage, sample)), None)
    if first is None or first.height == 0:
        return DEFAULT_CHUNK_SIZE
    records = normalize_usage(first)
    texts = [name for name, kind in records.schema.items() if kind == pl.String]
    lengths = records.select(pl.col(texts).str.len_bytes().fill_null(0)).to_numpy() if texts else None
    long_bytes = float(np.where(lengths > 12, lengths, 0).sum()) / records.height if lengths is not None else 0.0
    return max(1, int(DEFAULT_CHUNK_SIZE * SHORT_RECORD / (SHORT_RECORD + long_bytes)))


def _beside(read: Callable[[], _T], work: Callable[[], _U]) -> tuple[_T, _U]:
    """``read()`` on a thread of its own while ``work()`` runs here: the subscribers and the
    state are read (JSON and Python objects, mostly holding the GIL) while the usage is cut
    into partitions (polars, numpy and Arrow, mostly without it) — measured, 0.4-0.9 s of a
    run's wall-clock time on the benchmark's files. An error of ``read`` is raised first, as
    when it was read before the usage."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bssrules-state-reader") as reader:
        pending = reader.submit(read)
        try:
            done = work()
        finally:
            got = pending.result()
    return got, done


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the subscribers and state files are read: decoding
    them makes millions of small objects (JSON values, rows), none in a cycle, and each full
    collection they set off walks all of them again (measured: three collections, 0.3-1 s,
    on the benchmark's 100,000 subscribers and 250,000 buckets). Reference counting still
    frees everything; the collector runs again as before once they are read."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _state_partitions(state: BulkState, partitions: int) -> list[BulkState]:
    """The balances and totals of each partition's subscribers, the state split once (not
    filtered whole for each partition)."""
    if partitions == 1:
        return [state]

    def split(frame: pl.DataFrame) -> list[pl.DataFrame]:
        parts = frame.with_columns(_part=_partition_of(pl.col("subscriber"), partitions)) \
            .partition_by("_part", as_dict=True, include_key=False)
        return [parts.get((index,), frame.clear()) for index in range(partitions)]

    return [BulkState(buckets, totals) for buckets, totals in zip(split(state.buckets), split(state.accumulators))]


def _subscriber_partitions(subscribers: pl.DataFrame, partitions: int) -> list[pl.DataFrame]:
    """The subscriptions of each partition's subscribers (all the rows of an id go to the
    partition of its usage, in their order): a chunk looks its records' subscribers up among
    those of its partition, not among all of them (at 10,000,000 records in 50 partitions,
    a 2,000-row table each time instead of a 100,000-row one)."""
    if partitions == 1:
        return [subscribers]
    return _subscription_table_parts(subscribers, _partition_of(pl.col("id"), partitions), partitions)


def state_files(state: BulkState) -> BulkState:
    """The state with the names of its files (camelCase, as :func:`read_buckets` reads them)."""
    return BulkState(state.buckets.rename({k: v for k, v in STATE_NAMES.items() if k in state.buckets.columns}),
                     state.accumulators)


def _partitions(usage: Path, partitions: int, spill: Path, timings: dict[str, float],
                progress: Callable[[int], None] | None = None,
                seen: SeenIds | None = None) -> Generator[pl.DataFrame, None, None]:
    """The checked records of the file, one partition of subscribers at a time; the ids
    repeated in the file (or already in ``seen``) rejected, in file order."""
    cut = _cut(usage, partitions, spill, timings, progress, seen)
    del seen  # the ids seen (16 bytes a record) are not held while the partitions are read back
    yield from _read_back(cut, timings, _as_read)


def _as_read(index: int, partition: pl.DataFrame) -> pl.DataFrame:
    return partition


def _cut(usage: Path, partitions: int, spill: Path, timings: dict[str, float],
         progress: Callable[[int], None] | None = None, seen: SeenIds | None = None) -> list[Path] | pl.DataFrame:
    """The checked records of the file cut into ``partitions`` partitions of subscribers,
    spilled to Arrow files in ``spill`` (their paths, in order) — or, for one partition, the
    records themselves; the ids repeated in the file (or already in ``seen``) rejected, in
    file order."""
    stopwatch = time.perf_counter()
    read = 0

    def counted(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        nonlocal read
        for frame in frames:
            read += frame.height
            if progress is not None:
                progress(read)
            yield frame

    # in file order, before the records are cut: the first record of an id is the one rated,
    # whatever the partitions and chunks
    seen = seen or SeenIds()
    if partitions == 1:
        frames = [seen.mark(normalize_usage(raw)) for raw in counted(read_usage_batches(usage))]
        timings["read"] = timings.get("read", 0.0) + time.perf_counter() - stopwatch
        # one contiguous chunk: gathers over many small ones cost several times more
        return pl.concat(frames, rechunk=True) if frames else pl.DataFrame(schema=RECORD_SCHEMA)
    paths = [spill / f"part-{i:05d}.arrow" for i in range(partitions)]
    # polars' own string views through the spill files: no copy into Arrow strings and back
    newest = pl.CompatLevel.newest()
    schema = pl.DataFrame(schema=RECORD_SCHEMA).to_arrow(compat_level=newest).schema
    writers = [ipc.new_stream(str(p), schema) for p in paths]
    try:
        checked = (seen.mark(normalize_usage(raw)) for raw in counted(read_usage_batches(usage)))
        for records in _read_ahead(checked):
            part = records.select(_partition_of(pl.col("subscriber"), partitions)).to_series().to_numpy()
            # the rows grouped by partition, in their order within each (a stable sort: numpy's
            # radix sort on 16 bits), then one Arrow table sliced: a quarter less CPU than
            # partition_by, which gathers each partition's rows and converts each on its own
            order = np.argsort(part.astype(np.int16 if partitions <= 1 << 15 else np.int64), kind="stable")
            grouped = records[order].to_arrow(compat_level=newest).cast(schema)
            counts = np.bincount(part, minlength=partitions)
            offsets = np.cumsum(counts) - counts
            long_texts = _long_text_columns(grouped)
            for part_index in np.nonzero(counts)[0].tolist():
                writers[part_index].write_table(_own_texts(grouped.slice(int(offsets[part_index]),
                                                                         int(counts[part_index])), long_texts))
    finally:
        for writer in writers:
            writer.close()
    # the ids seen are let go with this call (16 bytes a record: 160 MB at 10,000,000 records)
    timings["read and partition"] = timings.get("read and partition", 0.0) + time.perf_counter() - stopwatch
    return paths


def _read_back(cut: list[Path] | pl.DataFrame, timings: dict[str, float],
               prepare: Callable[[int, pl.DataFrame], _T]) -> Generator[_T, None, None]:
    """``prepare(index, partition)`` of each partition :func:`_cut` made, in order. The next
    partition is read back and prepared on a thread of its own while this one is rated
    (pyarrow releases the GIL; ``prepare`` puts a chunk's records in rating order): one
    partition waits at most, so memory stays bounded."""
    if isinstance(cut, pl.DataFrame):
        prepared = prepare(0, cut)
        del cut  # the chunk keeps what it needs
        yield prepared
        return

    def read(index: int) -> tuple[_T, float]:
        partition, seconds = _read_partition(cut[index])
        return prepare(index, partition), seconds

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bssrules-partition-reader") as reader:
        pending = reader.submit(read, 0)
        for index in range(len(cut)):
            stopwatch = time.perf_counter()
            prepared, seconds = pending.result()
            timings["wait for the next partition"] = timings.get("wait for the next partition", 0.0) \
                + time.perf_counter() - stopwatch
            timings["read partitions (in the background)"] = \
                timings.get("read partitions (in the background)", 0.0) + seconds
            if index + 1 < len(cut):
                pending = reader.submit(read, index + 1)
            yield prepared
            del prepared  # rated: only the next one is held


def _long_text_columns(table: pa.Table) -> list[int]:
    """The text columns (Arrow string views) whose texts are not all held in their views (12
    bytes or fewer): their bytes are in data buffers shared by every slice of the column."""
    return [i for i, column in enumerate(table.columns) if column.type == pa.string_view()
            and any(buffer is not None and buffer.size for chunk in column.chunks for buffer in chunk.buffers()[2:])]


def _own_texts(table: pa.Table, columns: list[int]) -> pa.Table:
    """A slice of a batch with the texts of ``columns`` copied into buffers of its own: the
    IPC writer writes a string view column with all its data buffers, whatever the slice, so
    that each partition's part of a batch carried the texts of the whole batch — a file of
    ids longer than 12 bytes was spilled and read back once per partition (2,000,000 records
    of 39-byte ids in 10 partitions: peak RSS 1,207 MB, 911 MB with 11-byte ids; 10 times
    the bytes on disk)."""
    for i in columns:
        own = table.column(i).cast(pa.large_string()).cast(pa.string_view())
        table = table.set_column(i, table.field(i), own)
    return table


def _read_ahead(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The frames, each made on a thread of its own while the one before is cut in
    partitions and spilled (polars reads and checks them without the GIL): one ahead at most,
    so memory stays bounded. An error is raised here, on the caller's thread."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bssrules-usage-reader") as reader:
        pending = reader.submit(next, frames, None)
        while (frame := pending.result()) is not None:
            pending = reader.submit(next, frames, None)
            yield frame


def _read_partition(path: Path) -> tuple[pl.DataFrame, float]:
    """A spilled partition read back in one contiguous chunk (not one per batch written), and
    the seconds it took; its file removed."""
    began = time.perf_counter()
    with ipc.open_stream(str(path)) as stream:
        table = stream.read_all()
    partition = pl.from_arrow(table.combine_chunks())
    assert isinstance(partition, pl.DataFrame)
    path.unlink()
    return partition, time.perf_counter() - began


__all__ = ["rate_file", "RatingSummary", "RatedWriter", "read_usage_batches", "normalize_usage", "read_subscribers",
           "read_buckets", "read_accumulators", "write_state", "state_files", "file_format", "FORMATS",
           "DEFAULT_CHUNK_SIZE", "default_chunk_size", "Progress"]
