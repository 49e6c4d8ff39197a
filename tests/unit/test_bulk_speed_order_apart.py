"""A chunk's records put in rating order on one thread (the one that reads the partition
back), decided and scanned on another, finished on a third: the same rated frame and state
as :func:`rate_chunk`; and a file's partitions are ordered on the reading thread, in order,
each once."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import polars as pl

from bssrules.pricing import bulk_io
from bssrules.pricing.bulk import BulkState, order_chunk, rate_chunk

from tests.unit.pricing.test_bulk_pipeline import book, chunk  # noqa: F401 - the fixture and the chunk


def _on_a_thread(call: Callable[[], Any]) -> Any:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(call()))
    thread.start()
    thread.join()
    return got[0]


def test_the_three_parts_on_three_threads_give_what_rate_chunk_gives(book: Any) -> None:  # noqa: F811
    records, subscribers, state = chunk()
    expected, expected_state = rate_chunk(records, subscribers, book, state)
    assert (expected["rated_by"] == "reference").any() and (expected["rated_by"] == "bulk").any()
    timings: dict[str, float] = {}
    scan = _on_a_thread(lambda: order_chunk(records, subscribers, book, state, timings))
    finish = _on_a_thread(scan)
    rated, new_state = _on_a_thread(finish)
    assert rated.equals(expected)
    assert new_state.buckets.equals(expected_state.buckets)
    assert new_state.accumulators.equals(expected_state.accumulators)
    assert {"order", "conditions", "scan", "assemble"} <= set(timings)


def test_the_partitions_are_prepared_on_the_reading_thread_in_order(tmp_path: Path) -> None:
    from tests.unit.pricing.test_bulk_io import usage_rows, write_usage

    rows = usage_rows()
    write_usage(tmp_path / "usage.parquet", rows)
    spill = tmp_path / "spill"
    spill.mkdir()
    timings: dict[str, float] = {}
    cut = bulk_io._cut(tmp_path / "usage.parquet", 5, spill, timings)
    calls: list[tuple[int, str]] = []

    def prepare(index: int, partition: pl.DataFrame) -> pl.DataFrame:
        calls.append((index, threading.current_thread().name))
        return partition

    got = list(bulk_io._read_back(cut, timings, prepare))
    assert [index for index, _ in calls] == [0, 1, 2, 3, 4]
    assert all(name.startswith("bssrules-partition-reader") for _, name in calls)
    assert sum(p.height for p in got) == len(rows)
    assert not list(spill.glob("part-*.arrow"))


def test_a_file_of_one_partition_is_prepared_once_here(tmp_path: Path) -> None:
    from tests.unit.pricing.test_bulk_io import usage_rows, write_usage

    rows = usage_rows()
    write_usage(tmp_path / "usage.parquet", rows)
    cut = bulk_io._cut(tmp_path / "usage.parquet", 1, tmp_path, {})
    assert isinstance(cut, pl.DataFrame)
    calls: list[int] = []
    got = list(bulk_io._read_back(cut, {}, lambda index, partition: calls.append(index) or partition))
    assert calls == [0] and got[0].height == len(rows)


def test_a_failure_while_ordering_on_the_reading_thread_reaches_the_caller(tmp_path: Path) -> None:
    from tests.unit.pricing.test_bulk_io import usage_rows, write_usage

    write_usage(tmp_path / "usage.parquet", usage_rows())
    spill = tmp_path / "spill"
    spill.mkdir()
    cut = bulk_io._cut(tmp_path / "usage.parquet", 3, spill, {})

    def prepare(index: int, partition: pl.DataFrame) -> BulkState:
        if index == 1:
            raise ValueError("ordering failed")
        return BulkState.empty()

    chunks = bulk_io._read_back(cut, {}, prepare)
    next(chunks)
    try:
        next(chunks)
    except ValueError as exc:
        assert str(exc) == "ordering failed"
    else:
        raise AssertionError("the failure did not reach the caller")
    finally:
        chunks.close()
