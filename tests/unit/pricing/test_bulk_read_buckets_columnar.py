"""read_buckets first tries polars' JSON lines reader (:func:`_buckets_columnar`), which takes
only the files whose values it reads as Python's json does; whenever it gives a frame, it is
the frame of the line-by-line reader (the reference), whatever the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.errors import InvalidInput
from bssrules.pricing.bulk_frames import ACCUMULATOR_SCHEMA, BulkState
from bssrules.pricing.bulk_io import state_files
from bssrules.pricing.bulk_read import (
    _accumulators_by_line, _accumulators_columnar, _buckets_by_line, _buckets_columnar, read_buckets,
)
from bssrules.pricing.bulk_write import write_state

PLAIN: list[dict[str, Any]] = [{"id": "b1", "subscriber": "s1", "unit": "GB", "remaining": "10"},
         {"id": "b2", "subscriber": "s1", "unit": "EUR", "remaining": "15.50", "floor": None, "precedence": 5},
         {"id": "b3", "subscriber": "s2", "unit": "min", "remaining": 100, "services": ["voice"],
          "validFrom": "2026-06-01T00:00:00+02:00", "validTo": "2026-07-01T00:00:00Z"},
         {"id": "b4", "subscriber": "s2", "unit": "EUR", "remaining": "-2", "floor": "-5", "services": []}]


def write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def reference(path: Path) -> pl.DataFrame | str:
    try:
        return _buckets_by_line(path)
    except InvalidInput as exc:
        return str(exc)


def test_a_plain_file_is_read_by_polars_with_the_reference_frame(tmp_path: Path) -> None:
    path = write(tmp_path / "buckets.jsonl", PLAIN)
    frame = _buckets_columnar(path)
    assert frame is not None
    expected = reference(path)
    assert isinstance(expected, pl.DataFrame) and frame.schema == expected.schema and frame.equals(expected)
    # absent floor: 0; null floor: no limit; absent precedence: 100
    assert frame["floor"].to_list()[:2] == [0, None] and frame["precedence"].to_list()[0] == 100


def test_the_state_files_rating_writes_are_read_by_polars(tmp_path: Path) -> None:
    state = BulkState(read_buckets(write(tmp_path / "in.jsonl", PLAIN)), pl.DataFrame(schema=ACCUMULATOR_SCHEMA))
    write_state(state_files(state), tmp_path)  # as bssrules rate --state-out writes them
    frame = _buckets_columnar(tmp_path / "buckets.jsonl")
    assert frame is not None and frame.equals(read_buckets(write(tmp_path / "again.jsonl", PLAIN)))


def test_what_polars_would_read_otherwise_is_left_to_the_other_readers(tmp_path: Path) -> None:
    base = '"id": "b", "subscriber": "s", "unit": "GB"'
    for line in ['{%s, "remaining": 1.10000000000000000001}' % base,  # a float to polars
                 '{%s, "remaining": "1", "precedence": null}' % base,  # an error, not 100
                 '{%s, "remaining": "1", "remaining": "2"}' % base,  # Python keeps the last, polars the first
                 '{%s, "remaining": "1", "services": [true]}' % base,  # true -> "True" in Python
                 '{"id": {"a": 1}, "subscriber": "s", "unit": "GB", "remaining": "1"}',
                 '{%s, "remaining": "1", "valid_to": "2026-01-01T00:00:00Z"}' % base]:  # an old name
        path = write(tmp_path / "buckets.jsonl", [line])
        assert _buckets_columnar(path) is None, line


KEYS = ["id", "subscriber", "unit", "remaining", "floor", "precedence", "services", "validFrom", "validTo",
        "valid_to", "remainingg"]
VALUES = st.one_of(
    st.sampled_from(['"a"', '"s1"', '""', '"é"', '"1"', '"15.50"', '"-2"', '"1e3"', '" 4 "', '"7"', "null", "true",
                     "false", "0", "7", "-3", "10.0", "1.5", "1e3", "12345678901234567890", '["x"]', "[]", "[1]",
                     "[null]", '{"a": 1}', '"2026-06-01T00:00:00Z"', '"2026-06-01T00:00:00.5+02:00"',
                     '"2026-13-01T00:00:00Z"', '"2026-06-01"', '"a\\":b"', '"x\\": 1.5"']),
    st.integers(-10**20, 10**20).map(str))


@st.composite
def raw_lines(draw: st.DrawFn) -> str:
    """A JSON object's text, keys possibly repeated, values of any kind, spacing of any kind."""
    required = [k for k in KEYS[:4] if draw(st.integers(0, 9))]
    keys = required + draw(st.lists(st.sampled_from(KEYS), max_size=4))
    space = draw(st.sampled_from(["", " ", "  "]))
    members = []
    for key in keys:
        value = draw(VALUES) if key not in ("id", "subscriber", "unit", "remaining") or draw(st.integers(0, 3)) == 0 \
            else draw(st.sampled_from(['"a"', '"10"', "5", '"0.25"']))
        members.append(f'"{key}"{space}:{space}{value}')
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from(["[]", "3", "{", "", "   "]))
    return "{" + f",{space}".join(members) + "}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(raw_lines(), min_size=1, max_size=6))
def test_a_frame_from_polars_is_the_reference_frame(tmp_path: Path, lines: list[str]) -> None:
    path = write(tmp_path / "buckets.jsonl", lines)
    frame = _buckets_columnar(path)
    if frame is not None:
        expected = reference(path)
        assert isinstance(expected, pl.DataFrame), expected
        assert frame.schema == expected.schema and frame.equals(expected)


def test_most_generated_plain_files_are_taken(tmp_path: Path) -> None:
    # the property above is not vacuous: files of plain buckets do go through polars
    lines = [json.dumps({**bucket, "id": f"b{n}"}) for n, bucket in enumerate(PLAIN * 50)]
    assert _buckets_columnar(write(tmp_path / "buckets.jsonl", lines)) is not None


TOTAL_KEYS = ["accumulator", "subscriber", "period", "volume", "amount", "reached", "volumee"]


@st.composite
def raw_totals(draw: st.DrawFn) -> str:
    keys = [k for k in TOTAL_KEYS[:3] if draw(st.integers(0, 9))] + draw(st.lists(st.sampled_from(TOTAL_KEYS),
                                                                                    max_size=4))
    space = draw(st.sampled_from(["", " "]))
    return "{" + ",".join(f'"{key}"{space}:{space}{draw(VALUES)}' for key in keys) + "}"


def totals_reference(path: Path) -> pl.DataFrame | str:
    try:
        return _accumulators_by_line(path)
    except (InvalidInput, pl.exceptions.PolarsError) as exc:
        return str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(raw_totals(), min_size=1, max_size=6))
def test_totals_from_polars_are_the_reference_totals(tmp_path: Path, lines: list[str]) -> None:
    path = write(tmp_path / "accumulators.jsonl", lines)
    frame = _accumulators_columnar(path)
    if frame is not None:
        expected = totals_reference(path)
        assert isinstance(expected, pl.DataFrame), expected
        assert frame.schema == expected.schema and frame.equals(expected)


def test_totals_rating_writes_are_read_by_polars(tmp_path: Path) -> None:
    totals = [{"accumulator": "spend", "subscriber": f"s{n}", "period": "2026-06", "volume": "0",
               "amount": f"{n}.25", "reached": ["warn"] if n % 2 else []} for n in range(100)]
    path = write(tmp_path / "accumulators.jsonl", totals)
    frame = _accumulators_columnar(path)
    assert frame is not None and frame.equals(_accumulators_by_line(path))
    given_null = write(tmp_path / "null.jsonl", [json.dumps(totals[1]), '{"accumulator": "a", "subscriber": "s", '
                                                 '"period": "p", "amount": null}'])
    assert _accumulators_columnar(given_null) is None  # an error (line 2), not 0
