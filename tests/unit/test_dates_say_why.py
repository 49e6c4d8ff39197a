"""A date that the calendar does not have ('2026-02-30', month 13) was said "not a date
(YYYY-MM-DD)…", which reads as a wrong shape; the message now says which part does not exist."""
from __future__ import annotations

import pytest

from bssrules.catalog.types import parse_instant


@pytest.mark.parametrize("text, why", [
    ("2026-02-30", "February 2026 has 28 days"),
    ("2026-04-31T00:00:00+02:00", "April 2026 has 30 days"),
    ("2026-13-01", "there is no month 13"),
    ("0000-01-01", "the years run from 1 to 9999"),
])
def test_a_date_the_calendar_does_not_have_says_why(text: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_instant(text)
    assert str(caught.value) == f"'{text}' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): {why}"


@pytest.mark.parametrize("text", ["2026-2-3", "2026-06-01T25:00:00Z", "tomorrow"])
def test_a_wrong_shape_is_said_as_before(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_instant(text)
    assert str(caught.value) == f"'{text}' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)"
