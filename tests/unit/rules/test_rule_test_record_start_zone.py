"""A rating test's record whose start names no time zone was rated as UTC, while POST /usage and
``bssrules rate`` reject such a record (``malformed``): a test could pass on a record the real
rating refuses, or rate it at another time of day. It is refused where it is written."""
from __future__ import annotations

from typing import Any

RULES = (
    "ruleSets:\n"
    "  - id: u\n"
    "    kind: usage\n"
    "    rules:\n"
    "      - id: data\n"
    "        when: {usage.service: data}\n"
    "        rate: {amount: 1.00, currency: EUR, per: GB}\n"
    "tests:\n"
    "  - name: plays\n"
    "    ruleSet: u\n"
    "    records:\n"
    "      - {id: d1, service: data, unit: GB, volume: 1, start: 2026-06-12T18:00:00}\n"
    "      - {id: d2, service: data, unit: GB, volume: 1, start: 2026-06-12T18:00:00Z}\n"
    "      - {id: d3, service: data, unit: GB, volume: 1, start: '2026-06-12T18:00:00+02:00'}\n"
    "    expect:\n"
    "      records:\n"
    "        d1: {charge: 1.00}\n"
    "        d2: {charge: 1.00}\n"
    "        d3: {charge: 1.00}\n")


def test_a_records_start_without_its_zone_is_refused_where_it_is_written(rule_diagnostics: Any) -> None:
    found = [d for d in rule_diagnostics(RULES, catalog=None) if "names no time zone" in d.message]
    assert len(found) == 1, [d.message for d in rule_diagnostics(RULES, catalog=None)]
    assert found[0].line == 12
    assert "the start '2026-06-12T18:00:00' names no time zone: write it with Z or an offset" in found[0].message
