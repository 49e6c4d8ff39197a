"""The versions of one rule set are of one kind: a version of another kind is an error at
its kind, naming the kind of the first version (before, check only warned that the versions
were in force at once, and checked the rule set's tests against whichever kind it read first)."""
from __future__ import annotations

from bssrules.rules.lint import kind_findings
from bssrules.rules.project import load_project_texts

import pytest

from bssrules.errors import InvalidSource

RULES = """\
ruleSets:
  - id: u
    kind: usage
    version: 2
    rules:
      - {id: r, when: {usage.service: data}, rate: {amount: 1, currency: EUR, per: GB}}
  - id: u
    kind: eligibility
    version: 3
    validFor: {start: 2026-11-01}
    rules:
      - id: adults
        when: {party.age: {lt: 18}}
        reason: {code: minor, label: Adults only}
tests:
  - {name: rated, ruleSet: u, asOf: 2026-12-01, given: {usage: {service: data, volume: 1, unit: GB}}, expect: {status: rated}}
"""


def test_a_version_of_another_kind_is_an_error_at_its_kind() -> None:
    with pytest.raises(InvalidSource) as caught:
        load_project_texts({"rules.yaml": RULES})
    errors = [str(d) for d in caught.value.errors]
    assert "rules.yaml:8:11: version 3 of rule set 'u' is of kind eligibility, which changes the kind of the rule " \
           "set: version 2 is of kind usage (a new kind of rule set needs a new id) [at $.ruleSets[1].kind]" in errors


def test_the_kind_is_the_first_versions_whatever_the_order_written() -> None:
    found = kind_findings({"u": [(3, "eligibility"), (2, "usage"), (4, "usage")]})
    assert [(f.version, f.path, f.severity, f.code) for f in found] == [(3, ("kind",), "error", "kindChanged")]
