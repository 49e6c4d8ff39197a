"""The gap warning looks at every day of the week and every stretch between the rules'
validity dates: windows split by ``dayOfWeek`` (a weekend night, a weekday night) or by a price
change (a night rate until July, another from July) cover the day together, and were warned of
as leaving minutes without a rate (a review found both). A real gap is still said, with where
it is when it is not everywhere."""
from __future__ import annotations

from typing import Any

import pytest

from bssrules.errors import Diagnostic

HEAD = """\
ruleSets:
  - id: sms
    kind: usage
    timeZone: Europe/Paris
    rules:
"""


def gaps(found: list[Diagnostic]) -> list[str]:
    return [d.message for d in found if d.code == "gap"]


@pytest.fixture
def rule_findings(load_rules: Any) -> Any:
    """The warnings of a rule project that loads (the catalog: none)."""
    return lambda text: load_rules(text, None).warnings


def rule(id: str, window: str, more: str = "", valid: str = "") -> str:
    return (f"      - {{id: {id}, when: {{usage.service: sms, usage.start: {{timeOfDay: {window}{more}}}}}, "
            f"rate: {{amount: 0.01, currency: EUR, per: message}}{valid}}}\n")


NIGHT, DAY = '{from: "22:00", to: "05:59"}', '{from: "06:00", to: "21:59"}'


def test_windows_split_by_days_of_the_week_cover_the_day_together(rule_findings) -> None:
    text = HEAD + rule("weekend-night", NIGHT, ", dayOfWeek: [sat, sun]") + \
        rule("weekday-night", NIGHT, ", dayOfWeek: [mon, tue, wed, thu, fri]") + rule("day", DAY)
    assert gaps(rule_findings(text)) == []


def test_windows_split_by_a_price_change_cover_the_day_together(rule_findings) -> None:
    text = HEAD + rule("night-until-july", NIGHT, valid=", validFor: {end: 2026-07-01T00:00:00Z}") + \
        rule("night-from-july", NIGHT, valid=", validFor: {start: 2026-07-01T00:00:00Z}") + rule("day", DAY)
    assert gaps(rule_findings(text)) == []


def test_a_gap_on_some_days_is_said_with_the_days(rule_findings) -> None:
    text = HEAD + rule("weekday-night", NIGHT, ", dayOfWeek: [mon, tue, wed, thu, fri]") + rule("day", DAY)
    assert gaps(rule_findings(text)) == ["time windows leave minutes without a rate and no rule without a time "
                                         "window catches them: 00:00–05:59, 22:00–23:59 (on sat, sun)"]


def test_a_gap_everywhere_is_said_as_before(rule_findings) -> None:
    assert gaps(rule_findings(HEAD + rule("day", DAY))) == [
        "time windows leave minutes without a rate and no rule without a time window catches them: "
        "00:00–05:59, 22:00–23:59"]


def test_a_gap_in_one_stretch_of_validity_is_said_with_it(rule_findings) -> None:
    text = HEAD + rule("night-until-july", NIGHT, valid=", validFor: {end: 2026-07-01T00:00:00Z}") + rule("day", DAY)
    assert gaps(rule_findings(text)) == ["time windows leave minutes without a rate and no rule without a time "
                                         "window catches them: 00:00–05:59, 22:00–23:59 (from 2026-07-01T00:00:00+00:00)"]
