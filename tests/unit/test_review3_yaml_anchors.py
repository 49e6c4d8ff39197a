"""An error inside a YAML anchor (&a) is said once, at the anchor, with the lines of the
aliases (*a) that use it and the same help (a "did you mean") as an error written in place
— not once per alias."""
from __future__ import annotations

from pathlib import Path

import pytest

from bssrules.catalog import load_catalog_text
from bssrules.errors import InvalidSource
from bssrules.rules.project import check_project

MERGED = """\
productSpecifications:
  - {id: line, name: Line}
productOfferingPrices:
  - &monthly
    id: p1
    name: Monthly
    priceType: recuring
    recurringPeriod: month
    amount: 12.00
    currency: EUR
  - <<: *monthly
    id: p2
  - <<: *monthly
    id: p3
"""


def catalog_errors(text: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "c.yaml")
    return [str(d) for d in caught.value.diagnostics]


def test_an_error_in_a_merged_anchor_is_said_once_with_the_lines_of_its_aliases() -> None:
    assert catalog_errors(MERGED) == [
        "c.yaml:7:16: in an anchor used by 2 aliases (lines 11, 13): 'recuring' is not allowed here; expected one "
        "of: oneTime, recurring, usage (did you mean 'recurring'?) [at $.productOfferingPrices[0].priceType]"]


def test_an_anchored_value_used_by_aliases_is_said_once_at_the_anchor() -> None:
    text = ("productOfferingPrices:\n"
            "  - {id: p1, name: P1, priceType: oneTime, amount: 1.00, currency: &cur EURO}\n"
            "  - {id: p2, name: P2, priceType: oneTime, amount: 1.00, currency: *cur}\n"
            "  - id: p3\n    name: P3\n    priceType: oneTime\n    amount: 1.00\n    currency: *cur\n")
    assert catalog_errors(text) == [
        "c.yaml:2:68: in an anchor used by 2 aliases (lines 3, 8): expected a currency code of three capital "
        "letters such as EUR, got 'EURO' (did you mean 'EUR'?) [at $.productOfferingPrices[0].currency]"]


def test_an_error_written_in_place_is_said_as_before() -> None:
    text = MERGED.replace("  - <<: *monthly\n    id: p2\n  - <<: *monthly\n    id: p3\n", "")
    assert catalog_errors(text) == [
        "c.yaml:7:16: 'recuring' is not allowed here; expected one of: oneTime, recurring, usage (did you mean "
        "'recurring'?) [at $.productOfferingPrices[0].priceType]"]


def test_a_condition_in_an_anchor_is_said_once_by_check_with_its_help(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text("productSpecifications:\n  - {id: line, name: Line}\nproductOfferings:\n"
                                           "  - {id: plan, name: Plan, productSpecification: line}\n")
    (tmp_path / "rules.yaml").write_text("""\
ruleSets:
  - id: usage
    kind: usage
    rules:
      - id: data
        when: &w {usage.servce: data, offering.id: plam}
        rate: {amount: 0.01, currency: EUR, per: MB}
      - id: data2
        when: *w
        rate: {amount: 0.02, currency: EUR, per: MB}
""")
    found = check_project(tmp_path, cache=False).diagnostics
    assert [(d.line, d.column, d.message, d.suggestion) for d in found] == [
        (6, 19, "in an anchor used by 1 alias (line 9): unknown attribute 'usage.servce'", "usage.service"),
        (6, 52, "in an anchor used by 1 alias (line 9): unknown productOffering 'plam'", "plan")]
