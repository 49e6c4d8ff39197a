"""A misspelt time zone or day of the week gets a "did you mean" of what is valid: the
time zone from the IANA names this machine knows (a fixed example only when none is close),
the day from the three-letter days a condition takes."""
from __future__ import annotations

import pytest

from bssrules.rules.facts import weekday_suggestion
from tests.unit.rules.conftest import RuleDiagnostics, load_rules, rule_diagnostics  # noqa: F401  (fixtures)

RULES = """\
ruleSets:
  - id: u
    kind: usage
    timeZone: ZONE
    rules:
      - {id: d, rate: {amount: 1, currency: EUR, per: GB}}
"""


@pytest.mark.parametrize("zone, message, suggestion", [
    ("europe/paris", "unknown time zone 'europe/paris'", "Europe/Paris"),
    ("Europe/Pariss", "unknown time zone 'Europe/Pariss'", "Europe/Paris"),
    ("Nowhere/Land", "unknown time zone 'Nowhere/Land' (use an IANA name such as Europe/Paris)", None),
])
def test_a_misspelt_time_zone_suggests_the_closest_known_one(rule_diagnostics: RuleDiagnostics, zone: str,
                                                             message: str, suggestion: str | None) -> None:
    (found,) = rule_diagnostics(RULES.replace("ZONE", zone), catalog=None)
    assert (found.line, found.column, found.message, found.suggestion) == (4, 15, message, suggestion)


@pytest.mark.parametrize("written, meant", [("saturday", "sat"), ("Saturday", "sat"), ("SAT", "sat"),
                                            ("tues", "tue"), ("Mondy", "mon"), ("holiday", None)])
def test_a_day_written_in_full_or_another_case_suggests_its_three_letters(written: str, meant: str | None) -> None:
    assert weekday_suggestion(written) == meant
