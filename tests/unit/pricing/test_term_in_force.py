"""The term in force of a commitment (issue 15, item 2): the renewal that contains the instant,
counted from the first start (month ends never drift), or none once a term that ends is over."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from bssrules.pricing.commitments import commitment_end, term_end, term_in_force

UTC = dt.timezone.utc


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_monthly_term_from_the_31st_renews_to_each_month_s_last_day_without_drifting() -> None:
    start = _at("2026-01-31T00:00:00")
    assert term_in_force(start, 1, "month", "renew", _at("2026-02-10T00:00:00")) == (start, _at("2026-02-28T00:00:00"))
    # the second term runs from 28 February to 31 March (start + 2 months), not to 28 March
    assert term_in_force(start, 1, "month", "renew", _at("2026-03-30T00:00:00")) == (
        _at("2026-02-28T00:00:00"), _at("2026-03-31T00:00:00"))
    assert term_in_force(start, 1, "month", "renew", _at("2026-03-31T00:00:00")) == (
        _at("2026-03-31T00:00:00"), _at("2026-04-30T00:00:00"))


def test_a_term_that_ends_is_in_force_until_its_end_only() -> None:
    start = _at("2025-03-01T00:00:00")
    assert term_in_force(start, 12, "month", "end", _at("2026-02-28T23:59:59")) == (start, _at("2026-03-01T00:00:00"))
    assert term_in_force(start, 12, "month", "end", _at("2026-03-01T00:00:00")) is None
    assert term_in_force(start, 12, "month", "end", _at("2024-01-01T00:00:00")) == (start, _at("2026-03-01T00:00:00"))


@given(start=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1)),
       amount=st.integers(1, 36), units=st.sampled_from(["day", "week", "month", "year"]),
       after=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3650)))
def test_the_renewal_in_force_holds_the_instant_and_is_one_of_the_terms_counted_from_the_start(
        start: dt.datetime, amount: int, units: str, after: dt.timedelta) -> None:
    start = start.replace(tzinfo=UTC)
    at = start + after
    found = term_in_force(start, amount, units, "renew", at)
    assert found is not None
    begin, end = found
    assert begin <= at < end
    k = next(k for k in range(1, 4000) if term_end(start, amount * k, units) == end)
    assert begin == (start if k == 1 else term_end(start, amount * (k - 1), units))
    assert commitment_end(start, amount, units, "renew", at) == end
