"""A ``timeOfDay`` test on wall-clock starts given without a zone (bulk rating's local
columns, :class:`bssrules.pricing.vectorized.FactColumns`) reads the minute of the day from
the microseconds: it decides as the hour and minute of the same instants read in the zone do,
before 1970 as after, at the edges of minutes and days, and for null starts."""
from __future__ import annotations

import numpy as np
import polars as pl
from bssrules.pricing.vectorized import _datetime_test
from bssrules.rules import conditions
from bssrules.rules.project import load_project_texts


def _time_of_day_tests() -> list[conditions.Test]:
    rules = """\
ruleSets:
  - id: windows
    kind: usage
    timeZone: UTC
    rules:
      - id: night
        when: {usage.start: {timeOfDay: {from: "23:00", to: "06:59"}}}
        rate: {amount: 1, currency: EUR, per: min}
      - id: day
        when: {usage.start: {timeOfDay: {from: "07:00", to: "22:59"}}}
        rate: {amount: 1, currency: EUR, per: min}
      - id: minute
        when: {usage.start: {timeOfDay: {from: "00:00", to: "00:00"}}}
        rate: {amount: 1, currency: EUR, per: min}
"""
    book = load_project_texts({"rules.yaml": rules}).rules
    return [t for rule_set in book for rule in rule_set.rules for t in conditions.tests_of(rule.fires) if t.op == "timeOfDay"]


def test_the_minute_of_the_day_from_the_microseconds_is_the_hour_and_minute() -> None:
    rng = np.random.default_rng(16)
    edges = [0, -1, 1, 59_999_999, 60_000_000, -60_000_000, -60_000_001, 86_399_999_999, -86_400_000_000,
             -86_400_000_001, 23 * 3_600_000_000, 23 * 3_600_000_000 - 1, 7 * 3_600_000_000 - 1]
    micros = np.concatenate([rng.integers(-2_208_988_800_000_000, 4_102_444_800_000_000, 200_000), edges])
    naive = pl.Series("start", micros).cast(pl.Datetime("us"))
    frame = pl.DataFrame({"naive": naive, "aware": naive.dt.replace_time_zone("UTC")}) \
        .with_columns(pl.when(pl.int_range(pl.len()) % 89 == 0).then(None).otherwise(pl.col(c)).alias(c)
                      for c in ("naive", "aware"))
    tests = _time_of_day_tests()
    assert len(tests) == 3
    for test in tests:
        from_micros = _datetime_test(test, pl.col("aware"), "UTC", local=pl.col("naive"))
        from_fields = _datetime_test(test, pl.col("aware"), "UTC")  # hour and minute, in the zone
        got = frame.select(a=from_micros, b=from_fields)
        assert got["a"].null_count() == got["b"].null_count() == frame["naive"].null_count()
        assert got["a"].eq_missing(got["b"]).all(), test
        assert got["a"].any() and not got["a"].drop_nulls().all()
