"""A rule set id whose versions are of different kinds (v1 eligibility, expired; v2
compatibility, in force) is refused by check now (a new kind needs a new id); a rule book that
holds such versions all the same (a database from before that check) is decided by the version
of the right kind only: the basket check used to pick the rule sets by their first version's
kind and then decide whichever version was in force, so an eligibility check ran a
compatibility version and failed (KeyError 'reasons')."""
from __future__ import annotations

from typing import Any

import pytest

from bssrules.catalog.catalog import Origin
from bssrules.configurator.validate import validate_basket
from bssrules.errors import InvalidSource
from bssrules.rules.project import Project, load_project_texts

from basket_catalogs import HOME_CATALOG, basket

ELIGIBILITY = """
  - id: home-rules
    version: {version}
    kind: eligibility
    validFor: {valid}
    rules:
      - id: tv-for-adults
        offerings: [tv-box]
        when: {{party.age: {{gte: 18}}}}
        reason: {{code: minor, label: The TV box is sold to adults}}
"""
COMPATIBILITY = """
  - id: home-rules
    version: {version}
    kind: compatibility
    validFor: {valid}
    rules:
      - id: no-legacy-box-on-gigabit
        type: forbidden
        subject: {{productOffering: tv-legacy}}
        target: {{productOffering: line-1g}}
        message: The legacy TV box does not work on a gigabit line.
"""
BEFORE, AFTER = "{end: 2026-07-01}", "{start: 2026-07-01}"
ITEMS = [{"id": "1", "offering": "tv-legacy"}, {"id": "2", "offering": "line-1g"}, {"id": "3", "offering": "tv-box"}]


def _project(*versions: str) -> Project:
    """The project of the versions, each loaded alone, then their rule books put together (as a
    database that holds them from before the check of kinds gives them)."""
    projects = [load_project_texts({"catalog.yaml": HOME_CATALOG, "rules.yaml": "ruleSets:" + v}) for v in versions]
    for other in projects[1:]:
        for compiled in other.rules:
            projects[0].rules.add(compiled, Origin("rules.yaml", 1))
    return projects[0]


def test_check_refuses_a_version_that_changes_the_kind() -> None:
    with pytest.raises(InvalidSource, match="changes the kind of the rule set"):
        load_project_texts({"catalog.yaml": HOME_CATALOG, "rules.yaml": "ruleSets:" + ELIGIBILITY.format(
            version=1, valid=BEFORE) + COMPATIBILITY.format(version=2, valid=AFTER)})


def _rules_fired(project: Project, as_of: str, explain: bool) -> set[tuple[str, str | None]]:
    data: dict[str, Any] = {"asOf": as_of, "items": ITEMS, "party": {"age": 16}}
    result = validate_basket(basket(data), project.catalog, project.rules, explain=explain)
    return {(v.code, v.rule) for v in result.violations if v.rule_set == "home-rules"}


@pytest.mark.parametrize("explain", [False, True])
def test_an_expired_eligibility_version_then_a_compatibility_one_decides_only_compatibility(explain: bool) -> None:
    project = _project(ELIGIBILITY.format(version=1, valid=BEFORE), COMPATIBILITY.format(version=2, valid=AFTER))
    assert _rules_fired(project, "2026-09-01", explain) == {("incompatible", "no-legacy-box-on-gigabit")}
    assert _rules_fired(project, "2026-06-01", explain) == {("notEligible", "tv-for-adults")}


@pytest.mark.parametrize("explain", [False, True])
def test_an_expired_compatibility_version_then_an_eligibility_one_decides_only_eligibility(explain: bool) -> None:
    project = _project(COMPATIBILITY.format(version=1, valid=BEFORE), ELIGIBILITY.format(version=2, valid=AFTER))
    assert _rules_fired(project, "2026-09-01", explain) == {("notEligible", "tv-for-adults")}
    assert _rules_fired(project, "2026-06-01", explain) == {("incompatible", "no-legacy-box-on-gigabit")}
