"""Checks a catalog manager expects: a threshold above a hard cap of its accumulator is
never reached (a warning); an hour of one digit in ``timeOfDay`` is read as documented
(``"7:00"`` is 07:00). (A number in a condition beyond the float range, ``1e400``, is decided
exactly: tests/property/test_exact_decisions.py.)
"""
from __future__ import annotations

import datetime as dt

from bssrules.errors import Diagnostic
from bssrules.rules import conditions
from bssrules.rules.conditions import TimeWindow

CAPPED = """\
ruleSets:
  - id: u
    kind: usage
    accumulators:
      - id: acc
        measure: volume
        when: {{usage.service: data}}
        thresholds:
          - {{id: warn, at: 50, action: notify}}
          - {{id: cap, at: 100, action: block, crossing: {crossing}, reason: {{code: capped, label: Capped}}}}
          - {{id: late, at: 150, action: notify}}
    rules:
      - id: r
        when: {{usage.service: data}}
        rate: {{currency: EUR, per: MB, amount: 1}}
"""


def warnings(found: list[Diagnostic]) -> list[tuple[int, int, str]]:
    return [(d.line, d.column, d.message) for d in found]


def test_a_threshold_above_a_hard_cap_is_never_reached(load_rules) -> None:
    project = load_rules(CAPPED.format(crossing="rateUpToCap"))
    assert warnings(project.warnings) == [
        (11, 13, "threshold 'late' at 150 is never reached: the block threshold 'cap' (crossing: rateUpToCap) keeps "
                 "the total of accumulator 'acc' at or below 100")]


def test_a_threshold_above_a_cap_rated_in_full_may_be_reached_by_the_crossing_record(load_rules) -> None:
    assert load_rules(CAPPED.format(crossing="rateInFull")).warnings == []


def test_a_large_number_a_float_holds_is_accepted(load_rules) -> None:
    project = load_rules(
        "ruleSets:\n"
        "  - id: a\n"
        "    kind: usage\n"
        "    rules:\n"
        "      - id: r\n"
        "        when: {usage.volume: {gt: 1e300}}\n"
        "        rate: {amount: 1, currency: EUR, per: MB}\n")
    assert [r.id for r in project.rules] == ["a"]


def test_an_hour_of_one_digit_is_read_as_documented(load_rules) -> None:
    project = load_rules(
        "ruleSets:\n"
        "  - id: a\n"
        "    kind: usage\n"
        "    rules:\n"
        "      - id: r\n"
        "        when: {usage.start: {timeOfDay: {from: \"7:00\", to: \"9:30\"}}}\n"
        "        rate: {amount: 1, currency: EUR, per: MB}\n"
        "      - id: rest\n"
        "        rate: {amount: 2, currency: EUR, per: MB}\n")
    compiled = project.rules.in_force("a", dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc))
    windows = [t.value for rule in compiled.rules for t in conditions.tests_of(rule.authored) if t.op == "timeOfDay"]
    assert windows == [TimeWindow(7 * 60, 9 * 60 + 30)]
