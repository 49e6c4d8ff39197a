"""read_buckets reads the whole file at once (one JSON decode, columns typed in polars) and
falls back to the line-by-line reader for what that path does not take: on any file, both
give the same frame, or the same error (file:line, did-you-mean)."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.errors import InvalidInput
from bssrules.pricing.bulk_read import _buckets_at_once, _buckets_by_line, read_buckets

PLAIN = [{"id": "b1", "subscriber": "s1", "unit": "GB", "remaining": "10"},
         {"id": "b2", "subscriber": "s1", "unit": "EUR", "remaining": "15.50", "floor": None, "precedence": 5},
         {"id": "b3", "subscriber": "s2", "unit": "min", "remaining": 100, "services": ["voice"],
          "validFrom": "2026-06-01T00:00:00+02:00", "validTo": "2026-07-01T00:00:00Z"},
         {"id": "b4", "subscriber": "s2", "unit": "GB", "remaining": "0.000000000001", "valid_to":
          "2026-06-30T22:00:00.5+00:00"}]


def write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def outcome(reader: Any, path: Path) -> pl.DataFrame | str:
    try:
        frame: pl.DataFrame = reader(path)
        return frame
    except InvalidInput as exc:
        return str(exc)


def same(a: pl.DataFrame | str, b: pl.DataFrame | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.schema == b.schema and a.equals(b)


def test_a_plain_file_is_read_at_once_with_the_same_frame(tmp_path: Path) -> None:
    path = write(tmp_path / "buckets.jsonl", PLAIN)
    at_once = _buckets_at_once(path)
    assert at_once is not None  # the fast path takes it (old key names and JSON numbers included)
    assert same(at_once, _buckets_by_line(path))
    assert at_once["remaining"].cast(pl.Utf8).to_list()[1] == "15.500000000000"
    assert at_once["floor"].to_list()[1] is None and at_once["floor"][0] == Decimal(0)
    assert at_once["valid_to"].dt.to_string("%Y-%m-%dT%H:%M:%S%.6f").to_list()[2:] == [
        "2026-07-01T00:00:00.000000", "2026-06-30T22:00:00.500000"]


@pytest.mark.parametrize("line, message", [
    ({"id": "b9", "subscriber": "s1", "unit": "GB", "remainin": "1"},
     "unknown column 'remainin' (did you mean 'remaining'?)"),
    ({"id": "b9", "subscriber": "s1", "unit": "GB"}, "a bucket needs 'remaining'"),
    ({"id": "b9", "subscriber": "s1", "unit": "GB", "remaining": "lots"}, "expected a number, got 'lots'"),
    ({"id": "b9", "subscriber": "s1", "unit": "GB", "remaining": "1", "validTo": "soon"}, "'soon' is not a date"),
    ("[1, 2]", "expected a JSON object"),
    ("{not json", "not JSON"),
])
def test_a_wrong_line_is_named_by_its_line_as_before(tmp_path: Path, line: Any, message: str) -> None:
    path = write(tmp_path / "buckets.jsonl", [*PLAIN[:2], "", line])
    with pytest.raises(InvalidInput) as caught:
        read_buckets(path)
    assert f"{path}:4: " in str(caught.value) and message in str(caught.value)
    assert str(caught.value) == outcome(_buckets_by_line, path)


TEXTS = st.sampled_from(["a", "s1", "", " x ", "é"])
NUMBERS = st.one_of(st.sampled_from(["1", "0", "-2", "15.50", "+3", " 4.5 ", "1e-7", "1E3", ".5", "5.", "1_000",
                                     "0.0000000000001", "99999999999999999999999999", "NaN", "abc", ""]),
                    st.integers(-10**15, 10**15), st.decimals(allow_nan=False, allow_infinity=False, places=6),
                    st.booleans(), st.none())
INSTANTS = st.one_of(st.none(), st.sampled_from([
    "2026-06-01T00:00:00Z", "2026-06-01T00:00:00+02:00", "2026-06-01T00:00:00.123456-05:30", "2026-06-01",
    "2026-06-01T00:00:00", "2026-06-01 00:00:00Z", "2026-13-01T00:00:00Z", "nope", "2026-06-01T00:00:00.1234567Z"]),
    st.integers(0, 3))


@st.composite
def bucket_lines(draw: st.DrawFn) -> Any:
    line: dict[str, Any] = {}
    for key, values in [("id", TEXTS), ("subscriber", TEXTS), ("unit", st.sampled_from(["GB", "EUR"])),
                        ("remaining", NUMBERS)]:
        if draw(st.integers(0, 19)):  # mostly present
            line[key] = draw(values)
    optional = {"precedence": st.one_of(st.integers(-5, 200), st.sampled_from(["7", 1.5, True, None])),
                "services": st.one_of(st.none(), st.lists(TEXTS, max_size=3), st.just([1]), st.just("data")),
                "validFrom": INSTANTS, "validTo": INSTANTS, "valid_from": INSTANTS, "valid_to": INSTANTS,
                "floor": NUMBERS, "remainingg": NUMBERS}
    for key in draw(st.lists(st.sampled_from(list(optional)), max_size=4, unique=True)):
        line[key] = draw(optional[key])
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["[]", "3", "{", "NaN"]))
    return json.dumps(line, default=str) if draw(st.booleans()) else \
        json.dumps({k: (float(v) if type(v) is not bool and isinstance(v, (int,)) and draw(st.booleans()) else v)
                    for k, v in line.items()}, default=str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(bucket_lines(), max_size=6))
def test_read_at_once_or_by_line_the_same_frame_or_the_same_error(tmp_path: Path, lines: list[Any]) -> None:
    path = write(tmp_path / "buckets.jsonl", lines)
    assert same(outcome(read_buckets, path), outcome(_buckets_by_line, path))
