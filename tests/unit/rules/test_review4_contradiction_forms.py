"""``check`` finds a pair of compatibility rules that both require and forbid one item under
the same condition however the condition is written: ``{channel.id: web}`` and
``{channel.id: {eq: web}}`` hold in the same cases (a plain value means equality), and such a
pair checked clean while every smartphone basket on the web was refused (a review found it).
Conditions that differ are still not compared as one."""
from __future__ import annotations

import pytest

from bssrules.errors import Diagnostic


def errors(found: list[Diagnostic]) -> list[str]:
    return [d.message for d in found if d.severity == "error"]


def rules(first: str, second: str) -> str:
    return f"""\
ruleSets:
  - id: sims
    kind: compatibility
    rules:
      - {{id: a, type: required, subject: {{resourceSpecification: terminal-smartphone}}, target: {{resourceSpecification: sim-large}}, when: {first}}}
      - {{id: b, type: forbidden, subject: {{resourceSpecification: terminal-smartphone}}, target: {{resourceSpecification: sim-large}}, when: {second}}}
"""


@pytest.mark.parametrize(("first", "second"), [
    ("{channel.id: web}", "{channel.id: {eq: web}}"),
    ("{channel.id: web, party.age: {gte: 18}}", "{party.age: {gte: 18}, channel.id: {eq: web}}"),
    ("{channel.id: {in: [web]}}", "{channel.id: web}"),
])
def test_a_contradiction_is_found_however_its_condition_is_written(rule_diagnostics, first: str,
                                                                     second: str) -> None:
    assert any("both require and forbid" in m for m in errors(rule_diagnostics(rules(first, second))))


def test_rules_conditioned_differently_are_no_contradiction(load_rules) -> None:
    load_rules(rules("{channel.id: web}", "{channel.id: shop}"), "devices")  # loads: no error
