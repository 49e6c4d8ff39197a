"""Bulk rating reads a usage start from its text as ``POST /usage`` reads a usageDate: the same
texts are starts, and the same instant (``bssrules.pricing.bulk_starts`` against
``bssrules.services.usage.usage_instant``), on texts made of the pieces ISO 8601 and its
near misses are made of, and on any text."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk_read import normalize_usage
from bssrules.pricing.bulk_starts import usage_starts
from bssrules.services.usage import usage_instant


def _online(text: str) -> dt.datetime | None:
    instant = usage_instant(text)
    return None if instant is None else instant.astimezone(dt.timezone.utc)


def _bulk(texts: list[str]) -> list[dt.datetime | None]:
    return usage_starts(pl.Series("start", texts, dtype=pl.Utf8)).to_list()


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


_two = st.one_of(_digits(2), st.sampled_from(["00", "09", "12", "23", "24", "29", "30", "31", "59", "60", "99"]))
_year = st.one_of(_digits(4), st.sampled_from(["2026", "0001", "9999", "1000", "0000"]))
_date = st.one_of(st.builds(lambda y, m, d: f"{y}-{m}-{d}", _year, _two, _two),
                  st.builds(lambda y, m, d: f"{y}{m}{d}", _year, _two, _two),
                  st.sampled_from(["2026-W23-6", "2026-157", "2026-06", "2026-6-6"]))
_separator = st.sampled_from(["T", "t", " ", "", "TT", "_"])
_fraction = st.one_of(st.just(""), st.builds(lambda sep, f: sep + f, st.sampled_from([".", ","]),
                                             st.text(alphabet="0123456789", min_size=0, max_size=10)))
_time = st.one_of(st.builds(lambda h, m: f"{h}:{m}", _two, _two),
                  st.builds(lambda h, m, s, f: f"{h}:{m}:{s}{f}", _two, _two, _two, _fraction),
                  st.builds(lambda h, m: f"{h}{m}", _two, _two), _two)
_zone = st.one_of(st.sampled_from(["Z", "z", "", "+00:00", "-00:00", "+24:00", "+23:59", "-12", "+0530", "UTC"]),
                  st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-"), _two, _two))
_edge = st.sampled_from(["", " ", "\n", "\t"])
_iso_like = st.builds(lambda lead, d, sep, t, z, trail: f"{lead}{d}{sep}{t}{z}{trail}",
                      _edge, _date, _separator, _time, _zone, _edge)

# the texts the review found read apart, and their neighbours
KNOWN = ["2026-06-06T09:00+02:00", "2026-06-06 09:00:00+02:00", "2026-06-06T09:00:00+02:00",
         "2026-06-01T10:05:00+02:00", "2026-06-06t09:00:00Z", "2026-06-06T09:00:00z", "2026-06-06T09:00:00.5Z",
         "2026-06-06T09:00:00.1234567+02:00", "2026-06-06T09:00:00,5+02:00", "2026-06-06T09:00:00+0200",
         "20260606T09:00+02:00", "2026-06-06T09:00:60Z", "2026-06-06T24:00Z", "2026-02-30T09:00Z",
         "0001-01-01T00:30+01:00", "9999-12-31T23:30-01:00", "2026-06-06T09:00:00+02:00\n",
         " 2026-06-06T09:00:00Z", "2026-06-06T09:00:00Z ", "2026-06-06", "2026-06-06T09:00:00", "yesterday",
         "2026-06-06T09:00:00+24:00", "2026-06-06T09:00:00-23:59", "２０２６-06-06T09:00Z", "2026-06-06T٠٩:00Z"]


@pytest.mark.parametrize("text", KNOWN)
def test_the_known_texts_are_read_as_online(text: str) -> None:
    assert _bulk([text]) == [_online(text)]


def test_the_review_s_cases() -> None:
    assert _bulk(["2026-06-06T09:00+02:00"]) == [dt.datetime(2026, 6, 6, 7, tzinfo=dt.timezone.utc)]
    assert _bulk(["2026-06-06 09:00:00+02:00"]) == [None]


@settings(max_examples=400, deadline=None)
@given(st.lists(_iso_like, min_size=1, max_size=20))
def test_iso_like_texts_are_read_as_online(texts: list[str]) -> None:
    assert _bulk(texts) == [_online(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), _iso_like), min_size=1, max_size=20))
def test_any_text_is_read_as_online(texts: list[str]) -> None:
    assert _bulk(texts) == [_online(t) for t in texts]


@settings(max_examples=100, deadline=None)
@given(st.lists(_iso_like, min_size=1, max_size=10))
def test_a_record_is_malformed_for_its_start_exactly_when_online_refuses_it(texts: list[str]) -> None:
    raw = pl.DataFrame({"id": [f"u{i}" for i in range(len(texts))], "subscriber": ["s"] * len(texts),
                        "service": ["data"] * len(texts), "start": texts, "volume": ["1"] * len(texts)})
    records = normalize_usage(raw)
    assert [m is not None for m in records["malformed"]] == [_online(t) is None for t in texts]
    assert records["start"].to_list() == [_online(t) for t in texts]
