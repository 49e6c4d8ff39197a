"""The default chunk is cut for records whose texts are longer than the 12 bytes a string
view holds (UUID ids: more memory per record while a chunk is rated); short texts keep
DEFAULT_CHUNK_SIZE, and a given chunk size is kept as given."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from bssrules.pricing.bulk_io import DEFAULT_CHUNK_SIZE, SHORT_RECORD, default_chunk_size


def _usage(path: Path, ids: list[str], subscriber: str = "sub-0000001") -> Path:
    n = len(ids)
    pl.DataFrame({"id": ids, "subscriber": [subscriber] * n, "service": ["data"] * n,
                  "start": ["2026-06-01T10:00:00Z"] * n, "volume": ["1.5"] * n, "unit": ["MB"] * n}
                 ).write_csv(path)
    return path


def test_short_texts_keep_the_default_chunk(tmp_path: Path) -> None:
    assert default_chunk_size(_usage(tmp_path / "u.csv", [f"r{i:010d}" for i in range(500)])) == DEFAULT_CHUNK_SIZE


def test_uuid_ids_cut_the_chunk_by_their_width(tmp_path: Path) -> None:
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(500)]  # 36 bytes
    assert default_chunk_size(_usage(tmp_path / "u.csv", ids)) == DEFAULT_CHUNK_SIZE * SHORT_RECORD // (SHORT_RECORD + 36)
    # long subscriber ids count too: 36 + 20 bytes a record beyond what the views hold
    both = default_chunk_size(_usage(tmp_path / "v.csv", ids, subscriber="subscriber-000000001"))
    assert both == int(DEFAULT_CHUNK_SIZE * SHORT_RECORD / (SHORT_RECORD + 36 + 20))


def test_only_texts_beyond_twelve_bytes_count(tmp_path: Path) -> None:
    half = [f"r{i:010d}" if i % 2 else f"usage-record-{i:011d}" for i in range(500)]  # 11 and 24 bytes
    assert default_chunk_size(_usage(tmp_path / "u.csv", half)) == int(DEFAULT_CHUNK_SIZE * SHORT_RECORD
                                                                        / (SHORT_RECORD + 12))


def test_an_empty_file_keeps_the_default(tmp_path: Path) -> None:
    assert default_chunk_size(_usage(tmp_path / "u.csv", [])) == DEFAULT_CHUNK_SIZE
