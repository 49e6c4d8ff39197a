"""The partitions of a batch are spilled with their own texts: a slice of a string view
column keeps the data buffers of the whole column, which the Arrow IPC writer writes whole,
so that a file of ids longer than 12 bytes was spilled (and read back) once per partition."""
from __future__ import annotations

import io

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from bssrules.pricing.bulk_io import _long_text_columns, _own_texts


def _ipc_bytes(table: pa.Table) -> int:
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return len(sink.getvalue())


def test_a_slice_is_spilled_with_its_own_texts_only() -> None:
    n = 50_000
    frame = pl.DataFrame({"id": [f"usage-record-0000-1111-2222-{i:010d}" for i in range(n)],
                          "service": ["data", "voice"] * (n // 2), "volume": list(range(n))})
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    assert table.schema.field("id").type == pa.string_view()
    long_texts = _long_text_columns(table)
    assert long_texts == [0]  # "data" and "voice" are held in their views
    part = table.slice(1_000, n // 50)
    own = _own_texts(part, long_texts)
    assert own.schema == part.schema and own.equals(part)
    assert _ipc_bytes(part) > 20 * _ipc_bytes(own)  # the whole column's texts, against the slice's
    assert _ipc_bytes(own) < 2 * part.num_rows * (38 + 16 + 16 + 8)  # about the slice's own bytes: texts, views
