"""Order valuation with discounts: by combination, priority, duration, exclusivity, and the
net totals that add up to the lines."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bssrules.configurator.model import Basket
from bssrules.pricing.valuation import value_basket
from bssrules.rules.project import load_project, load_project_texts

ROOT = Path(__file__).resolve().parents[3]
AS_OF = "2026-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def devices() -> Any:
    return load_project(ROOT / "examples" / "devices")


def _basket(items: list[tuple[str, str, int]], **context: Any) -> Basket:
    return Basket.model_validate({"items": [{"id": i, "offering": o, "quantity": q} for i, o, q in items],
                                  "asOf": AS_OF, **context})


def _lines(basket: Basket, project: Any) -> dict[tuple[str, str], Any]:
    lines, _ = value_basket(basket, project.catalog, None, project.rules)
    return {(line.item, line.price): line for line in lines}


def test_a_tablet_bought_with_a_plan_gets_the_combination_discount_once_per_plan(devices: Any) -> None:
    lines = _lines(_basket([("1", "mobile-telephony-plan", 1), ("2", "ipad-mini-deluxe", 2)]), devices)
    tablet = lines[("2", "ipad-mini-deluxe-price")]
    assert tablet.amount.amount == Decimal("758.00")
    assert [(a.rule, a.reduction.amount, a.units) for a in tablet.alterations] == [
        ("tablet-with-plan", Decimal("50.00"), 1)]
    assert tablet.net.amount == Decimal("708.00")


def test_two_plans_and_two_tablets_make_two_combinations(devices: Any) -> None:
    lines = _lines(_basket([("1", "mobile-telephony-plan", 2), ("2", "ipad-mini-deluxe", 2)]), devices)
    assert lines[("2", "ipad-mini-deluxe-price")].net.amount == Decimal("658.00")


def test_a_tablet_alone_pays_the_full_price(devices: Any) -> None:
    lines = _lines(_basket([("2", "ipad-mini-deluxe", 1)]), devices)
    assert lines[("2", "ipad-mini-deluxe-price")].alterations == ()


def test_the_options_of_a_bundle_accumulate_into_the_basket_value(devices: Any) -> None:
    basket = Basket.model_validate({"asOf": AS_OF, "items": [{"id": "1", "offering": "mobile-with-tablet", "items": [
        {"id": "1.1", "offering": "mobile-telephony-plan"}, {"id": "1.2", "offering": "ipad-mini-deluxe"}]}]})
    _, totals = value_basket(basket, devices.catalog, None, devices.rules)
    by_type = {t.price_type: t.amount.amount for t in totals}
    # 10.00 SIM fee + 379.00 tablet − 50.00 combination discount; 19.90 plan + 0.00 bundle fee
    assert by_type == {"oneTime": Decimal("339.00"), "recurring": Decimal("19.90")}


def test_a_recurring_discount_carries_its_duration_and_totals_are_net(devices: Any) -> None:
    basket = _basket([("1", "mobile-telephony-plan", 1), ("3", "extra-minutes", 1)], party={"classification": "GOLD"})
    lines, totals = value_basket(basket, devices.catalog, None, devices.rules)
    named = {(line.item, line.price): line for line in lines}
    minutes = named[("3", "extra-minutes-monthly")]
    assert [(a.rule, a.reduction.amount, a.duration_periods) for a in minutes.alterations] == [
        ("welcome-minutes", Decimal("5.00"), 3)]
    plan = named[("1", "mobile-monthly")]
    assert [(a.rule, a.reduction.amount, a.duration_periods) for a in plan.alterations] == [
        ("gold-loyalty", Decimal("1.99"), 12)]
    recurring = next(t for t in totals if t.price_type == "recurring")
    assert recurring.amount.amount == Decimal("17.91") == sum(
        (line.net.amount for line in lines if line.price_type == "recurring"), Decimal(0))


RULES = """
ruleSets:
  - id: promo
    kind: discount
    rules:
      - {id: big, target: {offering: plan}, percentage: 50, priority: 1, exclusive: false}
      - {id: stacked, target: {offering: plan}, amount: 3.00, currency: EUR, priority: 2, exclusive: false}
      - {id: never, target: {offering: plan}, percentage: 10, priority: 3}
"""
CATALOG = """
productSpecifications:
  - {id: spec, name: Spec}
productOfferings:
  - {id: plan, name: Plan, productSpecification: spec, prices: [plan-fee]}
productOfferingPrices:
  - {id: plan-fee, name: Fee, priceType: recurring, recurringPeriod: month, amount: 10.00, currency: EUR}
"""


def test_non_exclusive_discounts_stack_and_an_exclusive_one_takes_only_untouched_units() -> None:
    project = load_project_texts({"catalog/c.yaml": CATALOG, "rules/r.yaml": RULES})
    lines, totals = value_basket(_basket([("1", "plan", 1)]), project.catalog, None, project.rules)
    (line,) = lines
    # 50 % off, then 3.00 off stacked on it; the exclusive 10 % finds no unit that no discount touched
    assert [(a.rule, a.reduction.amount) for a in line.alterations] == [("big", Decimal("5.00")),
                                                                       ("stacked", Decimal("3.00"))]
    assert line.net.amount == Decimal("2.00") == totals[0].amount.amount


def test_an_amount_discount_never_takes_a_line_below_zero() -> None:
    rules = RULES.replace("amount: 3.00", "amount: 30.00")
    project = load_project_texts({"catalog/c.yaml": CATALOG, "rules/r.yaml": rules})
    (line,), _ = value_basket(_basket([("1", "plan", 1)]), project.catalog, None, project.rules)
    assert line.net.amount == Decimal("0.00")


def test_without_rules_the_value_is_the_catalog_price() -> None:
    project = load_project_texts({"catalog/c.yaml": CATALOG, "rules/r.yaml": RULES})
    (line,), _ = value_basket(_basket([("1", "plan", 3)]), project.catalog, None, None)
    assert line.net.amount == Decimal("30.00") and line.alterations == ()


def test_an_exclusive_discount_keeps_its_units_from_every_later_discount() -> None:
    rules = RULES.replace("percentage: 50, priority: 1, exclusive: false", "percentage: 50, priority: 1")
    project = load_project_texts({"catalog/c.yaml": CATALOG, "rules/r.yaml": rules})
    (line,), _ = value_basket(_basket([("1", "plan", 2)]), project.catalog, None, project.rules)
    assert [(a.rule, a.reduction.amount, a.units) for a in line.alterations] == [("big", Decimal("10.00"), 2)]


CHARGED_CATALOG = """
productSpecifications:
  - {id: data, name: Data}
  - {id: music, name: Music}
productOfferings:
  - {id: data-5gb, name: 5 GB, productSpecification: data, sellable: false, prices: [data-monthly]}
  - {id: music-access, name: Music, productSpecification: music, sellable: false, prices: [music-monthly, music-fee]}
  - id: music-5gb
    name: 5 GB music
    bundle:
      - {offering: data-5gb, charged: false}
      - {offering: music-access}
    prices: [bundle-monthly]
productOfferingPrices:
  - {id: data-monthly, name: Data, priceType: recurring, recurringPeriod: month, amount: 4.00, currency: EUR}
  - {id: music-monthly, name: Music, priceType: recurring, recurringPeriod: month, amount: 5.99, currency: EUR}
  - {id: music-fee, name: Music setup, priceType: oneTime, amount: 1.00, currency: EUR}
  - {id: bundle-monthly, name: Bundle, priceType: recurring, recurringPeriod: month, amount: 12.99, currency: EUR}
"""


def test_a_bundle_child_not_charged_brings_no_price_and_a_charged_one_adds_its_own() -> None:
    project = load_project_texts({"catalog.yaml": CHARGED_CATALOG})
    basket = Basket.model_validate({"asOf": AS_OF, "items": [{"id": "1", "offering": "music-5gb", "items": [
        {"id": "1.1", "offering": "data-5gb"}, {"id": "1.2", "offering": "music-access"}]}]})
    lines, totals = value_basket(basket, project.catalog, None, project.rules)
    assert sorted((line.item, line.price, line.amount.amount) for line in lines) == [
        ("1", "bundle-monthly", Decimal("12.99")), ("1.2", "music-fee", Decimal("1.00")),
        ("1.2", "music-monthly", Decimal("5.99"))]
    assert {(t.price_type, t.amount.amount) for t in totals} == {("recurring", Decimal("18.98")),
                                                                ("oneTime", Decimal("1.00"))}
