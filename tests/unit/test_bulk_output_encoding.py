"""The rated Parquet file's encoding, as docs/bulk-rating.md states it: every column chunk
compressed with Snappy, no min/max statistics, the texts of top-level columns dictionary-encoded
where they repeat; and what a reader gets back — the types of the rated frame, camelCase names,
amounts as decimals at the minor unit (precision 18), the same values as the rated frames."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks import rating_bench
from bssrules.pricing.bulk_frames import OUTPUT_NAMES, RATED_SCHEMA, money_schema
from bssrules.pricing.bulk_io import rate_file
from bssrules.rules.project import load_project


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The benchmark's workload, 3,000 records in chunks of 1,000, rated into Parquet and
    into JSON lines (the same rows, written as text)."""
    folder = tmp_path_factory.mktemp("encoding")
    (folder / "project").mkdir()
    (folder / "project" / "rules.yaml").write_text(rating_bench.RULES, encoding="utf-8")
    subscribers, buckets = rating_bench.write_subscribers_and_buckets(folder, 40)
    rating_bench.write_usage(folder / "usage.parquet", 3_000, 40)
    book = load_project(str(folder / "project")).rules
    outputs = folder / "rated.parquet", folder / "rated.jsonl"
    for output in outputs:
        rate_file(book, folder / "usage.parquet", subscribers, output, buckets=buckets, chunk_size=1_000)
    return outputs


def test_every_column_chunk_is_snappy_compressed_without_statistics(rated: tuple[Path, Path]) -> None:
    metadata = pq.ParquetFile(rated[0]).metadata
    assert metadata.num_rows == 3_000
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            assert chunk.compression == "SNAPPY", chunk.path_in_schema
            assert chunk.statistics is None or not chunk.statistics.has_min_max, chunk.path_in_schema


def test_repeated_top_level_texts_are_dictionary_encoded(rated: tuple[Path, Path]) -> None:
    row_group = pq.ParquetFile(rated[0]).metadata.row_group(0)
    chunks = {row_group.column(i).path_in_schema: row_group.column(i) for i in range(row_group.num_columns)}
    for name in ("service", "unit", "status", "ruleSet", "rule", "currency"):
        assert chunks[name].has_dictionary_page, name


def test_a_reader_gets_the_rated_frames_types_and_values(rated: tuple[Path, Path]) -> None:
    frame = pl.read_parquet(rated[0])
    expected = {OUTPUT_NAMES.get(name, name): dtype for name, dtype in
                {**RATED_SCHEMA, **money_schema(2, precision=18)}.items()}
    assert list(frame.columns) == list(expected)
    for name, dtype in expected.items():
        if name != "charges":  # a list of structs whose fields are renamed: compared below
            assert frame.schema[name] == dtype, name
    charges = frame.schema["charges"]
    assert isinstance(charges, pl.List) and isinstance(charges.inner, pl.Struct)
    assert charges.inner.to_schema()["amount"] == pl.Decimal(18, 2)
    arrow = pq.read_schema(rated[0])
    assert arrow.field("amount").type == pa.decimal128(18, 2)
    assert arrow.field("start").type == pa.timestamp("us", tz="UTC")
    # the same rows as the JSON lines written from the same frames (amounts there as text)
    text = pl.read_ndjson(rated[1], infer_schema_length=None)
    assert frame["id"].to_list() == text["id"].to_list()
    assert frame["status"].to_list() == text["status"].to_list()
    assert [str(a) if a is not None else None for a in frame["amount"].to_list()] == text["amount"].to_list()
