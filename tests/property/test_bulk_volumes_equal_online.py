"""Bulk rating reads a volume from its text as ``POST /usage`` does (``Decimal`` of the text):
the same texts are volumes, of the same value — but for volumes finer than 12 decimals, which
a file cannot hold (its volume column has 12) and which it refuses, saying so."""
from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk_read import normalize_usage
from bssrules.pricing.rating import malformed
from bssrules.services.usage import record_of


def _online(text: str) -> Decimal | None:
    body = {"usageDate": "2026-06-01T00:00:00Z", "usageType": "data",
            "usageCharacteristic": [{"name": "productId", "value": "s"}, {"name": "volume", "value": text}]}
    record, _ = record_of("x", body)
    return None if record is None or malformed(record) is not None else record.volume


def _bulk(texts: list[str]) -> list[tuple[Decimal | None, str | None]]:
    raw = pl.DataFrame({"id": [f"u{i}" for i in range(len(texts))], "subscriber": "s", "service": "data",
                        "start": "2026-06-01T00:00:00Z", "volume": texts})
    records = normalize_usage(raw)
    return list(zip(records["volume"].to_list(), records["malformed"].to_list()))


def _agree(text: str, bulk: tuple[Decimal | None, str | None]) -> bool:
    online, (volume, problem) = _online(text), bulk
    if online is not None and online != online.quantize(Decimal(1).scaleb(-12)):  # finer than 12 decimals
        return volume is None and problem == "the volume has more than 12 decimals"
    if online is None:
        return problem is not None
    return problem is None and volume == online


_digits = st.text(alphabet="0123456789", min_size=0, max_size=14)
_number = st.builds(lambda lead, sign, whole, point, frac, exp, trail: f"{lead}{sign}{whole}{point}{frac}{exp}{trail}",
                    st.sampled_from(["", " ", "\t"]), st.sampled_from(["", "+", "-"]), _digits,
                    st.sampled_from(["", ".", ","]), _digits,
                    st.one_of(st.just(""), st.builds(lambda e, s, d: f"{e}{s}{d}", st.sampled_from("eE"),
                                                      st.sampled_from(["", "+", "-"]), _digits)),
                    st.sampled_from(["", " ", "\n"]))
KNOWN = ["1", "0e161767940", "0E-99", "+84112917236518436e-0161767952", "1000e-15", "1e-13", "1e-7", "1_000", "١", "0x10", "Infinity", "NaN", "-0", "1e400", "1e12", "1000000000001",
         "1.0000000000000", "0.0000000000001", "1.5e-12", "1 000", " 2 ", ".5", "1.", "+1", "-1e3", "abc"]


@pytest.mark.parametrize("text", KNOWN)
def test_the_known_volume_texts_are_read_as_online(text: str) -> None:
    assert _agree(text, _bulk([text])[0])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_number, st.text(max_size=12)), min_size=1, max_size=20))
def test_volume_texts_are_read_as_online(texts: list[str]) -> None:
    for text, read in zip(texts, _bulk(texts)):
        assert _agree(text, read), (text, read, _online(text))
