"""A discount that can never alter a price is found by check, where the catalog is known:
an amount in another currency than every price it targets (pricing only takes an amount off
a price of its own currency: the rule fires, its test passes, the price never changes) is an
error; a target price type the offering has no price of is a warning."""
from __future__ import annotations

from pathlib import Path

import pytest

from bssrules.catalog.loader import check_catalog_file, load_catalog, price_lookup
from bssrules.errors import Diagnostic
from bssrules.rules.loader import check_rule_documents, check_rules_file, cross_file_diagnostics, \
    offering_price_lookup
from bssrules.yaml_source import SourceDocument, parse_text

CATALOG = Path(__file__).resolve().parents[2] / "examples" / "devices" / "catalog"

RULES = """\
ruleSets:
  - id: offers
    kind: discount
    rules:
      - id: eur-off
        target: {offering: ipad-mini-deluxe, priceType: oneTime}
        amount: 50.00
        currency: EUR
{more}
"""
USD_OFF = """\
      - id: usd-off
        target: {offering: ipad-mini-deluxe, priceType: oneTime}
        amount: 50.00
        currency: USD"""
MONTHLY_OFF = """\
      - id: monthly-off
        target: {offering: ipad-mini-deluxe, priceType: recurring}
        percentage: 10"""
ANY_USD_OFF = """\
      - id: any-usd-off
        target: {offering: ipad-mini-deluxe}
        amount: 5.00
        currency: USD"""


def _document(text: str) -> SourceDocument:
    doc, problems = parse_text(text, "rules.yaml", True)
    assert doc is not None and not problems
    return doc


def with_catalog_model(text: str) -> list[str]:
    """check_rule_documents, given the catalog loaded."""
    _, diagnostics = check_rule_documents([_document(text)], load_catalog(CATALOG))
    return [str(d) for d in diagnostics if d.code == "discountPrice"]


def with_catalog_checks(text: str) -> list[str]:
    """The checks across files as a project check makes them, from what each catalog file says."""
    catalog_docs = []
    for path in sorted(CATALOG.glob("*.yaml")):
        doc, _ = parse_text(path.read_text(encoding="utf-8"), f"catalog/{path.name}", True)
        assert doc is not None
        catalog_docs.append(doc)
    catalog_checks = [check_catalog_file(doc)[0] for doc in catalog_docs]
    rules_doc = _document(text)
    price_of = price_lookup(catalog_checks, lambda i: catalog_docs[i])
    found: list[Diagnostic] = cross_file_diagnostics(
        [check_rules_file(rules_doc)[0]], lambda i: rules_doc, price_of=price_of,
        prices_of=offering_price_lookup(catalog_checks, price_of))
    return [str(d) for d in found if d.code == "discountPrice"]


@pytest.mark.parametrize("diagnose", [with_catalog_model, with_catalog_checks])
def test_an_amount_in_a_currency_of_no_targeted_price_is_an_error(diagnose) -> None:  # type: ignore[no-untyped-def]
    found = diagnose(RULES.replace("{more}", USD_OFF))
    assert len(found) == 1
    # the price's position is file:line (a catalog model) or file:line:column (the catalog files' checks)
    assert found[0].startswith(
        "rules.yaml:12:19: discount 'usd-off' takes an amount in USD off the oneTime prices of offering "
        "'ipad-mini-deluxe', but they are in other currencies: 'ipad-mini-deluxe-price' in EUR (at ")
    assert "catalog/offerings.yaml:73" in found[0]
    assert found[0].endswith("); an amount is only taken off a price of its currency, so it never applies "
                             "[at $.ruleSets[0].rules[1].currency]")


@pytest.mark.parametrize("diagnose", [with_catalog_model, with_catalog_checks])
def test_a_target_price_type_the_offering_has_no_price_of_is_a_warning(diagnose) -> None:  # type: ignore[no-untyped-def]
    found = diagnose(RULES.replace("{more}", MONTHLY_OFF))
    assert found == ["rules.yaml:10:57: warning: offering 'ipad-mini-deluxe' has no recurring price: discount "
                     "'monthly-off' never alters a price [at $.ruleSets[0].rules[1].target.priceType]"]


@pytest.mark.parametrize("diagnose", [with_catalog_model, with_catalog_checks])
def test_an_amount_without_price_type_is_checked_against_both_types(diagnose) -> None:  # type: ignore[no-untyped-def]
    found = diagnose(RULES.replace("{more}", ANY_USD_OFF))
    assert len(found) == 1 and "takes an amount in USD off the oneTime and recurring prices" in found[0]


@pytest.mark.parametrize("diagnose", [with_catalog_model, with_catalog_checks])
def test_a_discount_in_the_currency_of_its_price_is_not_reported(diagnose) -> None:  # type: ignore[no-untyped-def]
    assert diagnose(RULES.replace("{more}", "")) == []
