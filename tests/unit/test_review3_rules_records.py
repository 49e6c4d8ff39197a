"""A test that plays records stays one when a field of it is in error: its expectations are
checked as a rating test's (records it does not play, values of the wrong type), not reported
as "'records' cannot be expected of a usage decision"."""
from __future__ import annotations

import pytest

from tests.unit.rules.conftest import RuleDiagnostics, load_rules, rule_diagnostics  # noqa: F401  (fixtures)
from tests.unit.rules.test_rating_tests import one_test, record

EXPECT = """\
    expect:
      records:
        r2: {status: rated}
        r1: {charge: one}
"""
BAD_DATE = '      - {id: r3, service: data, unit: MB, volume: 1, start: "2026-12-32T12:00:00+01:00"}\n'
NEGATIVE = "      - {id: r3, service: data, unit: MB, volume: -1, start: 2026-06-10T09:00:00Z}\n"
REPEATED = "      - {id: r1, service: data, unit: MB, volume: 1, start: 2026-06-10T09:00:00Z}\n"


@pytest.mark.parametrize("bad, error", [
    (BAD_DATE, "'2026-12-32T12:00:00+01:00' is not a date"),
    (NEGATIVE, "expected a number ≥ 0, got -1"),
    (REPEATED, "record ids must differ"),
])
def test_one_bad_field_of_a_records_test_hides_no_expectation_error(rule_diagnostics: RuleDiagnostics, bad: str,
                                                                    error: str) -> None:
    found = rule_diagnostics(one_test("    records:\n" + record("r1", "1", 8) + bad + EXPECT), catalog=None)
    messages = [d.message for d in found]
    assert len(messages) == 3 and messages[0].startswith(error)
    assert messages[1:] == ["the test plays no record 'r2'", "expected a number for 'charge', got 'one'"]
    assert [(d.line, d.column) for d in found[1:]] == [(43, 9), (44, 22)]
