"""Bulk rating on a Dask cluster: the subscriber partitions of a usage dataset rated by the
workers of Dask distributed, a Parquet dataset out.

The same job as :func:`bssrules.pricing.bulk_io.rate_file`, when one machine is not enough::

    client (bssrules rate --workers N | --scheduler tcp://host:8786)
      | checks every file's columns, reads the subscribers and the state (small: one row per
      | subscriber, bucket, accumulator total), the rules as YAML texts
      v
    split tasks, one per usage piece (a Parquet file of the dataset, or some of its row
    groups; a CSV or JSON lines file is read by the client and its batches sent)
      | read, check and type the rows (bulk_read.normalize_usage), cut them into P parts by a
      | hash of the subscriber; the piece's ids, in file order, back to the client
      v
    client: the ids of every piece checked in file order (bulk_ids.SeenIds, as one process
    checks them): which rows of each piece repeat an id given earlier in the file
      v
    rating tasks, one per partition p in 0..P-1
      | take part p of every split task (Dask moves them between workers), the subscribers
      | and the balances and totals of partition p (passed in by the client), the repeated
      | ids rejected duplicateId, rate them in
      | one chunk (bulk.rate_chunk), write OUTPUT/part-p.parquet, give back the new state
      | of partition p and the partition's counts
      v
    client: the new state of every partition written as buckets.jsonl / accumulators.jsonl,
    the counts summed into one RatingSummary

Every partition holds all the usage of its subscribers (the hash of the subscriber picks it),
so a partition is rated on its own with its subscribers' balances and totals, as a chunk of
:func:`rate_file` is; the output holds the same rated records (one part file per partition,
each in rating order) and the state out is the same. The workers need the same bssrules,
polars and numba as the client (checked before anything is sent), and reach the usage
dataset and the output folder by the same paths (a shared file system).

The kernels are compiled on each worker's first use unless cached: :func:`warm_workers` runs
:func:`bssrules.pricing.bulk_warm.warm_up` on every worker first and says whether it had to
compile.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import polars as pl
import pyarrow.parquet as pq

from bssrules.errors import InvalidInput
from bssrules.pricing.bulk import rate_chunk
from bssrules.pricing.bulk_frames import ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, RECORD_SCHEMA, BulkState
from bssrules.pricing.bulk_memory import worker_environment
from bssrules.pricing.bulk_io import (
    DEFAULT_CHUNK_SIZE, Progress, RatingSummary, _partition_of, _row_count, state_files,
)
from bssrules.pricing.bulk_ids import SeenIds, mark_repeated
from bssrules.pricing.bulk_read import (
    check_usage_columns, file_format, normalize_usage, read_accumulators, read_buckets, read_subscribers, state_names,
    read_usage_batches, usage_files,
)
from bssrules.pricing.bulk_warm import Compilation, warm_up
from bssrules.pricing.bulk_write import RatedWriter, write_state
from bssrules.rules.book import RuleBook

if TYPE_CHECKING:  # distributed is an optional dependency (the "cluster" extra)
    from distributed import Client, Future

_BOOKS: dict[str, RuleBook] = {}  # per worker process: the rule books met lately, by their texts' digest
_BOOKS_KEPT = 4  # a long-lived worker rating many projects (or versions of one) keeps the latest only
_PIECE_ROWS = 1_000_000  # rows read by one split task at most (row groups are not cut)
_PROBE_SECONDS = 10.0  # how long a --scheduler address is given to answer as a Dask scheduler


def _digest(texts: dict[str, str]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(texts):
        hasher.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return hasher.hexdigest()


def _book(texts: dict[str, str], digest: str) -> RuleBook:
    """The rule book of these texts, loaded once per worker process."""
    book = _BOOKS.pop(digest, None)
    if book is None:
        from bssrules.rules.project import load_project_texts

        book = load_project_texts(texts).rules
    _BOOKS[digest] = book  # the latest used last: the first ones go when there are too many
    while len(_BOOKS) > _BOOKS_KEPT:
        del _BOOKS[next(iter(_BOOKS))]
    return book


def _versions() -> dict[str, str]:
    import numba

    return {"bssrules": metadata.version("bssrules"), "polars": pl.__version__, "numba": numba.__version__}


@dataclass(frozen=True)
class _Piece:
    """A piece of the usage a split task reads: a Parquet file's row groups (None: all)."""

    path: str
    row_groups: tuple[int, ...] | None


def _pieces(files: Sequence[Path]) -> list[_Piece]:
    """Parquet files cut into pieces of at most about :data:`_PIECE_ROWS` rows."""
    pieces = []
    for path in files:
        meta = pq.ParquetFile(path).metadata
        groups: list[int] = []
        rows = 0
        for index in range(meta.num_row_groups):
            if groups and rows + meta.row_group(index).num_rows > _PIECE_ROWS:
                pieces.append(_Piece(str(path), tuple(groups)))
                groups, rows = [], 0
            groups.append(index)
            rows += meta.row_group(index).num_rows
        pieces.append(_Piece(str(path), tuple(groups) if meta.num_row_groups > 1 else None))
    return pieces


_ROW = "_row"  # a record's row in its piece: how the client's check of the ids names it


def _split(source: _Piece | pl.DataFrame, partitions: int) -> tuple[list[pl.DataFrame], pl.Series]:
    """A piece of usage, checked and typed, cut into its ``partitions`` parts by subscriber
    (each record with its row in the piece), and the piece's ids in file order."""
    if isinstance(source, _Piece):
        handle = pq.ParquetFile(source.path)
        table = handle.read() if source.row_groups is None else handle.read_row_groups(list(source.row_groups))
        raw = pl.from_arrow(table)
        assert isinstance(raw, pl.DataFrame)
    else:
        raw = source
    records = normalize_usage(raw).with_columns(part=_partition_of(pl.col("subscriber"), partitions),
                                                **{_ROW: pl.int_range(pl.len(), dtype=pl.UInt32)})
    parts = records.partition_by("part", as_dict=True, include_key=False)
    empty = pl.DataFrame(schema={**RECORD_SCHEMA, _ROW: pl.UInt32})
    return [parts.get((p,), empty) for p in range(partitions)], records["id"]


def _ids(split: tuple[list[pl.DataFrame], pl.Series]) -> pl.Series:
    return split[1]


def _part(split: tuple[list[pl.DataFrame], pl.Series], partition: int) -> pl.DataFrame:
    return split[0][partition]


def _rate_partition(texts: dict[str, str], digest: str, pieces: list[pl.DataFrame], repeats: list[list[int]],
                    subscribers: pl.DataFrame, state: BulkState, output: str) -> tuple[RatingSummary, BulkState]:
    """One partition: its usage rated with its subscribers' balances and totals, written to
    ``output``; the partition's counts and new state back. ``repeats``: for each piece, the
    rows whose id an earlier record of the file has (the client's check: across partitions)."""
    began = time.perf_counter()
    marked = []
    for piece, rows in zip(pieces, repeats):  # (in file order)
        if rows:  # rejected duplicateId, as one process rejects them: the first in file order is rated
            piece = mark_repeated(piece, piece[_ROW].is_in(pl.Series(rows, dtype=pl.UInt32)))
        marked.append(piece.drop(_ROW))
    records = pl.concat(marked, rechunk=True) if marked else pl.DataFrame(schema=RECORD_SCHEMA)
    summary = RatingSummary(partitions=1)
    rated, new_state = rate_chunk(records, subscribers, _book(texts, digest), state, summary.timings)
    writer = RatedWriter(Path(output))
    try:
        writer.write(rated)
    finally:
        writer.close()
    summary.add(rated)
    summary.seconds = time.perf_counter() - began
    return summary, new_state


def project_texts(folder: Path) -> dict[str, str]:
    """The YAML files of a project folder as texts (what the workers load the rules from)."""
    from bssrules.yaml_source import yaml_files

    folder = Path(folder)
    return {str(path.relative_to(folder)): path.read_text(encoding="utf-8") for path in yaml_files(folder)}


@contextmanager
def cluster_client(workers: int | None = None, scheduler: str | None = None,
                   threads_per_worker: int = 1) -> Iterator["Client"]:
    """A Dask client: of a local cluster of ``workers`` processes, or connected to the
    scheduler at ``scheduler`` (``tcp://host:8786``)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InvalidInput("rating on a cluster needs Dask distributed: pip install 'bssrules[cluster]'") from None
    if scheduler is not None:
        # asked first, and briefly: Dask's client retries a refused connection for its whole
        # timeout, and waits without end on a port that answers but not as a scheduler (the
        # dashboard's, 8787: an HTTP server)
        problem = scheduler_problem(scheduler, _PROBE_SECONDS)
        if problem is not None:
            raise InvalidInput(f"cannot use the Dask scheduler at {scheduler}: {problem}")
        try:
            client = Client(scheduler, timeout="20s")  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    if workers is None or workers < 1:
        raise InvalidInput("a local cluster needs at least 1 worker")
    # the workers' allocators tuned as this process's (bulk_memory): a worker loads polars
    # before any bssrules module and glibc reads its variables when a process starts, so they
    # are in the environment a worker process starts with — the nanny takes it from this
    # process's (over its own MALLOC_TRIM_THRESHOLD_) when it is made: set for that moment
    with _environment(worker_environment()):
        # any free ports (the dashboard too), and only errors logged (not the nanny's notes on a slow shutdown)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker,  # type: ignore[no-untyped-call]
                               processes=True, dashboard_address=":0", scheduler_port=0,
                               silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def scheduler_problem(address: str, seconds: float = 10.0) -> str | None:
    """Why ``address`` is no Dask scheduler this process can use, or None: said within about
    ``seconds`` (a name that does not resolve, nothing listening, a wrong address, a port that
    answers but not as a Dask scheduler)."""
    import asyncio
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.core import connect
    from distributed.security import Security

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
        elif scheme != "inproc":
            return f"the address must be tcp://HOST:PORT (e.g. tcp://scheduler:8786), not {scheme}://…"
    except (ValueError, TypeError) as exc:
        return f"{exc} (give tcp://HOST:PORT, e.g. tcp://scheduler:8786)"
    if scheme != "inproc":
        try:
            socket.create_connection((host, int(port)), timeout=seconds).close()
        except socket.gaierror:
            return f"no host named {host!r} (the name does not resolve)"
        except ConnectionRefusedError:
            return f"nothing listens on {host}:{port} (connection refused): is the scheduler started, on that port?"
        except OSError as exc:  # a time-out: a firewall, a host that is down
            return f"no connection to {host}:{port} within {seconds:.0f} s ({exc or type(exc).__name__})"

    async def identity() -> object:
        arguments = Security().get_connection_args("client")  # type: ignore[no-untyped-call]
        comm = await connect(address, timeout=seconds, **arguments)  # type: ignore[no-untyped-call]
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    not_dask = "it does not answer as a Dask scheduler (the dashboard's port, 8787, or another service?)"
    # a thread of its own: asyncio.run needs one without a running event loop
    with ThreadPoolExecutor(1) as pool:
        try:
            reply = pool.submit(asyncio.run, asyncio.wait_for(identity(), seconds)).result()
        except (TimeoutError, asyncio.TimeoutError):
            return f"{not_dask}: no answer within {seconds:.0f} s"
        except Exception as exc:  # noqa: BLE001 - whatever a foreign service's bytes make of Dask's protocol
            return f"{not_dask}: {type(exc).__name__}"
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        return f"it is a Dask {kind}, not the scheduler" if isinstance(kind, str) else not_dask
    return None


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """``variables`` in this process's environment for the block, then as they were."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def warm_workers(client: "Client") -> dict[str, Compilation]:
    """Every worker's kernels compiled (or loaded from its cache): worker -> what it compiled.
    The workers' versions checked first (:func:`check_workers`): a worker of another bssrules
    may have no such function, or compile other kernels."""
    check_workers(client)
    done: dict[str, Compilation] = client.run(warm_up)
    return done


def check_workers(client: "Client") -> None:
    """The workers run the same bssrules, polars and numba as this process (the partition of
    a subscriber and the results depend on them), or an :class:`InvalidInput` says which not."""
    mine = _versions()
    theirs: dict[str, dict[str, str]] = client.run(_versions)
    if not theirs:
        raise InvalidInput("the Dask cluster has no worker")
    different = [f"{worker}: {name} {value} (here {mine[name]})" for worker, versions in sorted(theirs.items())
                 for name, value in sorted(versions.items()) if mine.get(name) != value]
    if different:
        raise InvalidInput("the Dask workers do not run what this process runs: " + "; ".join(different))


def output_folder_problem(output: Path) -> str | None:
    """Why ``output`` cannot take a cluster's rated records (a folder of Parquet part files,
    new or empty), if it cannot: said before a cluster is started."""
    output = Path(output)
    if output.suffix and output.suffix.lower() != ".parquet":
        return (f"{output}: on a cluster the output is a Parquet dataset, a folder of part files "
                f"(give a folder, e.g. rated/ or rated.parquet/)")
    if output.is_file():
        return f"{output}: on a cluster the output is a folder of part files, and this is a file"
    if output.is_dir() and any(output.iterdir()):
        return f"{output}: the output folder is not empty (the parts of an earlier run?); give a new or empty folder"
    return None


def _output_folder(output: Path) -> Path:
    output = Path(output)
    problem = output_folder_problem(output)
    if problem is not None:
        raise InvalidInput(problem, path=(str(output),))
    output.mkdir(parents=True, exist_ok=True)
    return output


def rate_on_cluster(client: "Client", texts: dict[str, str], usage: Path, subscribers: Path, output: Path, *,
                    buckets: Path | None = None, accumulators: Path | None = None, state_out: Path | None = None,
                    chunk_size: int = DEFAULT_CHUNK_SIZE, partitions: int | None = None,
                    progress: Progress | None = None) -> RatingSummary:
    """Rate ``usage`` (a Parquet dataset folder or file; CSV or JSON lines are read here and
    sent) on the workers of ``client`` with the rules of ``texts`` into the Parquet dataset
    ``output`` (``part-00000.parquet`` …, one per partition); the new balances and totals into
    ``state_out``. ``partitions``: how many (default: enough for ``chunk_size`` records each,
    and at least twice the workers' threads)."""
    if chunk_size < 1:
        raise InvalidInput("the chunk size must be at least 1")
    began = time.perf_counter()
    # the paths the workers open, absolute: a worker started in another folder (dask worker on
    # another host, in its own working directory) read a relative usage/ and wrote rated/ there
    usage, output = Path(usage).absolute(), Path(output).absolute()
    files = usage_files(usage)
    kind = file_format(files[0])
    check_usage_columns(usage)  # every file's columns before anything is sent
    rows = _row_count(Path(usage), kind)
    subscriber_frame = read_subscribers(subscribers)
    digest = _digest(texts)
    names = state_names(_book(texts, digest))  # the state files checked as a single process checks them
    state = BulkState(read_buckets(buckets, names) if buckets else pl.DataFrame(schema=BUCKET_SCHEMA),
                      read_accumulators(accumulators, names) if accumulators
                      else pl.DataFrame(schema=ACCUMULATOR_SCHEMA))
    out = _output_folder(output)
    check_workers(client)
    threads = sum(client.nthreads().values())  # type: ignore[no-untyped-call]
    summary = RatingSummary()

    # the usage, cut by subscriber on the workers (a CSV or JSON lines file read here first)
    count = partitions or max(math.ceil(rows / chunk_size), 2 * threads, 1)
    summary.partitions = count
    sources: Iterator[_Piece | pl.DataFrame] = iter(_pieces(files)) if kind == "parquet" \
        else read_usage_batches(files[0])  # a text file: read here (its columns checked), its batches sent
    # frames go to the workers as data (scatter), never inside the task graph
    splits = [client.submit(_split, _data(client, source), count, pure=False) for source in sources]
    ratings: list["Future[Any]"] = []
    # the state out in partition order, whichever partition ends first: the same files from one
    # run to the next
    new_states: list[BulkState | None] = [None] * count
    try:
        return _rate_splits(client, texts, digest, splits, ratings, new_states, rows, subscriber_frame, state, out,
                            state_out, summary, began, progress)
    except _LOST as exc:  # a worker died or left with data only it held (what the client sent)
        client.cancel(ratings + splits)  # type: ignore[no-untyped-call]
        # (the part files, not the results come back: a partition may have written its part and not told)
        written = len(list(out.glob("part-*.parquet")))
        raise InvalidInput(f"the Dask cluster lost a worker (or its scheduler) during the run, and with it data "
                           f"of the run ({type(exc).__name__}: {exc}); {out} holds the parts written so far "
                           f"({written} of {count}) and no state was written: empty {out} and run again with the "
                           f"same state files") from None


def _rate_splits(client: "Client", texts: dict[str, str], digest: str, splits: list["Future[Any]"],
                 ratings: list["Future[Any]"], new_states: list[BulkState | None], rows: int,
                 subscriber_frame: pl.DataFrame, state: BulkState, out: Path, state_out: Path | None,
                 summary: RatingSummary, began: float, progress: Progress | None) -> RatingSummary:
    """The ids of the split pieces checked, then the partitions rated (into ``ratings``, their new
    state into ``new_states`` as they end) and the state out written."""
    count = len(new_states)
    # the ids checked here, piece by piece in file order, as one process checks them: an id
    # given to records of two subscribers (two partitions) is rated once too
    seen = SeenIds(rows)
    repeats: list[list[int]] = []
    for split in splits:
        ids = client.submit(_ids, split, pure=False)
        repeats.append([int(row) for row in seen.repeated(ids.result()).nonzero()[0]])
        ids.release()  # type: ignore[no-untyped-call]
    del seen
    # (sent once to each worker that needs them, not in every rating task's arguments)
    # (an empty file sends no piece: nothing to scatter — scatter([]) fails, 'not enough values to unpack')
    repeat_futures = client.scatter(repeats, hash=False) if repeats else []  # type: ignore[no-untyped-call]

    # each partition with its subscribers, balances and totals, passed in explicitly
    # (hash=False: a key of this run's own — scattered data is keyed by its hash otherwise, so
    # two runs on one cluster sending the same project shared a key, and the first to finish
    # released it: the other's tasks were cancelled, FutureCancelledError)
    texts_future = client.scatter(texts, broadcast=True, hash=False)  # type: ignore[no-untyped-call]
    subscribers_of = _by_partition(subscriber_frame, "id", count)
    buckets_of = _by_partition(state.buckets, "subscriber", count)
    totals_of = _by_partition(state.accumulators, "subscriber", count)
    for p in range(count):
        pieces = [client.submit(_part, split, p, pure=False) for split in splits]
        mine = BulkState(buckets_of[p], totals_of[p])
        ratings.append(client.submit(_rate_partition, texts_future, digest, pieces, repeat_futures,
                                     _data(client, subscribers_of[p]), _data(client, mine),
                                     str(out / f"part-{p:05d}.parquet"), pure=False))
    splits.clear()  # (the caller's list: the pieces let go once every partition took its part)

    from distributed import as_completed

    index = {future.key: p for p, future in enumerate(ratings)}
    for future in as_completed(ratings):  # type: ignore[no-untyped-call]
        part_summary, new_state = future.result()
        new_states[index[future.key]] = new_state
        _merge(summary, part_summary)
        if progress is not None:
            progress("rate", summary.records, rows)
    done = [state for state in new_states if state is not None]
    if state_out is not None:
        final = BulkState(pl.concat([s.buckets for s in done]), pl.concat([s.accumulators for s in done]))
        write_state(state_files(final), Path(state_out))
    summary.seconds = time.perf_counter() - began
    return summary


def _lost() -> tuple[type[BaseException], ...]:
    """What Dask raises when a worker dies with the only copy of data the run needs."""
    try:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError
        from distributed.comm.core import CommClosedError
    except ImportError:
        return ()
    # (CommClosedError: data being sent to the worker as it died)
    return (FutureCancelledError, KilledWorker, CommClosedError)


_LOST = _lost()


def _data(client: "Client", value: object) -> object:
    """A frame or a state as a future of data sent to the cluster; anything else as it is."""
    if isinstance(value, (pl.DataFrame, BulkState)):
        # a key of this run's own (see texts_future above)
        return client.scatter(value, hash=False)  # type: ignore[no-untyped-call]
    return value


def _by_partition(frame: pl.DataFrame, key: str, count: int) -> list[pl.DataFrame]:
    """The rows of ``frame`` in each of the ``count`` partitions, by the hash of ``key``."""
    parts = frame.with_columns(part=_partition_of(pl.col(key), count)) \
        .partition_by("part", as_dict=True, include_key=False)
    empty = frame.clear()
    return [parts.get((p,), empty) for p in range(count)]


def _merge(summary: RatingSummary, part: RatingSummary) -> None:
    summary.records += part.records
    summary.rated += part.rated
    summary.partly_rated += part.partly_rated
    summary.by_reference += part.by_reference
    summary.rejected.update(part.rejected)
    for currency, total in part.totals.items():
        summary.totals[currency] = summary.totals.get(currency, total * 0) + total
    for stage, seconds in part.timings.items():
        summary.timings[f"{stage} (on the workers)"] = summary.timings.get(f"{stage} (on the workers)", 0.0) + seconds


__all__ = ["rate_on_cluster", "cluster_client", "check_workers", "warm_workers", "project_texts"]
