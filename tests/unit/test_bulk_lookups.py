"""The shortcuts of bulk rating's first stages give what the plain operations give:
wall-clock time by the hour's offset (bulk_chunk._wall_clock) as converting every start
would, the ids check's table (bulk_ids.SeenIds) as a set of the texts would."""
from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from bssrules.pricing.bulk_chunk import _wall_clock
from bssrules.pricing.bulk_ids import SeenIds


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu",
                                  "Africa/Casablanca", "UTC"])
@pytest.mark.parametrize("span_days", [3, 800, 40_000])
def test_the_wall_clock_time_is_that_of_converting_each_start(zone: str, span_days: int) -> None:
    rng = np.random.default_rng(span_days)
    seconds = 1_700_000_000 + rng.integers(-span_days * 86_400, span_days * 86_400, 5_000)
    micros = seconds * 1_000_000 + rng.integers(0, 1_000_000, seconds.shape[0])
    start = pl.Series("start", micros).cast(pl.Datetime("us", "UTC")).scatter([0, 17], None)
    expected = start.dt.convert_time_zone(zone).dt.replace_time_zone(None)
    got = _wall_clock(start, zone)
    assert got.dtype == expected.dtype and got.name == "start"
    assert got.equals(expected)


def test_the_wall_clock_time_around_a_change_of_offset_is_exact_to_the_second() -> None:
    change = 1_711_846_800  # 2024-03-31 01:00 UTC: Paris goes from +1 to +2
    start = pl.Series("start", np.arange(change - 7_200, change + 7_200) * 1_000_000).cast(pl.Datetime("us", "UTC"))
    expected = start.dt.convert_time_zone("Europe/Paris").dt.replace_time_zone(None)
    assert _wall_clock(start, "Europe/Paris").equals(expected)
    nothing = pl.Series("start", [None, None], pl.Datetime("us", "UTC"))
    assert _wall_clock(nothing, "Europe/Paris").null_count() == 2


def test_the_seen_ids_say_what_a_set_of_the_texts_says_while_the_table_grows() -> None:
    rng = np.random.default_rng(5)
    seen, texts = SeenIds(), set()
    for _ in range(30):
        batch = [None if r < 0.01 else f"id-{int(r * 20_000)}" for r in rng.random(1_000)]
        expected = []
        for text in batch:
            expected.append(text is not None and text in texts)
            if text is not None:
                texts.add(text)
        assert seen.repeated(pl.Series(batch, dtype=pl.Utf8)).tolist() == expected
