"""Properties of basket validation, on baskets generated from the devices example and the
inline home catalog (with its rules):

- validating the same basket twice gives the same result;
- the order of the items (and of the components of a bundle) changes where violations
  point, never which violations there are;
- removing, from a valid basket, an item that no rule or catalog relationship requires
  keeps the basket valid;
- adding a duplicate of an item that is part of a forbidden pair (a ``forbidden``
  compatibility rule or an ``excludes`` relationship) never makes an invalid basket valid,
  and keeps every violation it had.
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bssrules.configurator.model import Basket
from bssrules.configurator.validate import ValidationResult, validate_basket
from bssrules.rules.project import Project, load_project, load_project_texts
from basket_catalogs import EXAMPLES, HOME_CATALOG, HOME_RULES

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DEVICES = load_project(EXAMPLES / "devices")
HOME = load_project_texts({"catalog.yaml": HOME_CATALOG, "rules.yaml": HOME_RULES})
PROJECTS = {"devices": DEVICES, "home": HOME}

# --- building blocks ----------------------------------------------------------------------------

SMALL_PLAN = {"offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "SMALL"},
              "resources": ["sim-small"]}
LARGE_PLAN = {"offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "LARGE"},
              "resources": ["sim-large"]}
SMARTPHONE = {"offering": "smartphone", "resources": ["terminal-smartphone"]}
IPAD_STD = {"offering": "ipad-mini-std"}
IPAD_DELUXE = {"offering": "ipad-mini-deluxe"}
TABLET_BUNDLE = {"offering": "mobile-with-tablet"}

DEVICE_ITEMS = [
    SMALL_PLAN, LARGE_PLAN, SMARTPHONE, IPAD_STD, IPAD_DELUXE, TABLET_BUNDLE,
    {"offering": "mobile-telephony-plan", "resources": ["sim-small", "sim-large"]},
    {"offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "SMALL", "freeMinutes": 250}},
    {"offering": "classic-phone", "resources": ["terminal-classic-phone"]},
    {"offering": "extra-minutes"},
    {"offering": "ipad-mini-std", "characteristics": {"memorySize": "32GB", "colour": "gold"}},
    {"offering": "smartphon"},
    {"offering": "mobile-with-tablet", "items": [SMALL_PLAN, IPAD_DELUXE]},
    {"offering": "mobile-with-tablet", "items": [LARGE_PLAN, IPAD_STD, SMARTPHONE]},
    {"offering": "mobile-with-tablet", "items": [IPAD_STD, {**IPAD_DELUXE, "quantity": 2}]},
]
DEVICE_INVENTORY = [
    {"offering": "smartphone", "resources": ["terminal-smartphone"]},
    {"offering": "smartphone", "status": "terminated", "resources": ["terminal-smartphone"]},
    {"offering": "classic-phone", "resources": ["terminal-classic-phone"]},
    {"offering": "ipad-mini-std", "status": "suspended"},
]

LINE = {"offering": "line-any", "characteristics": {"speed": 500}}
ROUTER = {"offering": "router", "characteristics": {"ports": 4}}
TV_BOX = {"offering": "tv-box"}
GIGABIT = {"offering": "line-1g"}
LEGACY_BOX = {"offering": "tv-legacy"}
HOME_ITEMS = [
    LINE, ROUTER, TV_BOX, GIGABIT, LEGACY_BOX,
    {"offering": "home-bundle"}, {"offering": "home-bundle", "items": [LINE, {**ROUTER, "quantity": 3}]},
    {"offering": "home-bundle", "items": [ROUTER, {"offering": "tv-sports"}]},
    {"offering": "promo"}, {"offering": "tv-sports"}, {"offering": "static-ip"},
    {"offering": "line-dual", "characteristics": {"speed": 1000}},
    {"offering": "router", "characteristics": {"ports": 0, "colour": ["black", "white", "red"], "serial": "X"}},
]
HOME_INVENTORY = [{"offering": "line-any"}, {"offering": "tv-legacy"}, {"offering": "line-1g", "status": "terminated"}]

AS_OF = st.sampled_from(["2026-03-01", "2026-06-30", "2026-07-01", "2026-09-01"])


def numbered(items: list[dict[str, Any]], prefix: str = "i") -> list[dict[str, Any]]:
    """Copies of the items with unique ids (components too)."""
    out = []
    for n, item in enumerate(items):
        copy = {**item, "id": f"{prefix}{n}"}
        if "items" in item:
            copy["items"] = numbered(item["items"], f"{prefix}{n}.")
        out.append(copy)
    return out


@st.composite
def baskets(draw: Any, project: str | None = None) -> tuple[str, dict[str, Any]]:
    """(project name, basket data): any mix of items, valid or not."""
    name = project or draw(st.sampled_from(sorted(PROJECTS)))
    pool, inventory = (DEVICE_ITEMS, DEVICE_INVENTORY) if name == "devices" else (HOME_ITEMS, HOME_INVENTORY)
    items = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
    owned = draw(st.lists(st.sampled_from(inventory), max_size=2))
    data: dict[str, Any] = {"asOf": draw(AS_OF), "items": numbered(items),
                            "inventory": numbered(owned, "p"),
                            "channel": draw(st.sampled_from([None, "shop", "web", "partner"]))}
    if name == "home":
        data["party"] = {"age": draw(st.sampled_from([12, 18, 40]))}
        data["payers"] = draw(st.sampled_from([{}, {"holder": "BA-1"}, {"holder": "BA-1", "viewer": "BA-2"}]))
    return name, data


@st.composite
def valid_baskets(draw: Any) -> tuple[str, dict[str, Any]]:
    """(project name, basket data) of baskets built to be valid."""
    name = draw(st.sampled_from(sorted(PROJECTS)))
    items: list[dict[str, Any]] = []
    if name == "devices":
        ipad = draw(st.sampled_from([None, IPAD_STD, IPAD_DELUXE]))
        phones = draw(st.integers(0, 2))
        explicit_bundle = draw(st.booleans())
        items += [SMARTPHONE] * phones + ([ipad] if ipad else [])
        items += [TABLET_BUNDLE] * draw(st.integers(0, 2))
        if explicit_bundle:
            items.append({"offering": "mobile-with-tablet", "items": [SMALL_PLAN] + ([ipad] if ipad else [])})
        if draw(st.booleans()) or ((phones or ipad) and not explicit_bundle):
            items.append(SMALL_PLAN)
        owned = draw(st.lists(st.sampled_from(DEVICE_INVENTORY[1:2]), max_size=1))  # terminated phones only
        data = {"asOf": draw(AS_OF), "channel": draw(st.sampled_from([None, "web"])),
                "inventory": numbered(owned, "p")}
    else:
        tv = draw(st.booleans())
        routers = draw(st.integers(0, 2))
        items += [TV_BOX] * tv + [ROUTER] * routers
        items += [{"offering": "static-ip"}] * draw(st.integers(0, 1))
        items += [{"offering": "home-bundle"}] * draw(st.integers(0, 1))
        items += [GIGABIT] * draw(st.integers(0, 1))
        if tv or routers or draw(st.booleans()):
            items.append(LINE)
        data = {"asOf": draw(AS_OF), "channel": draw(st.sampled_from([None, "shop"])),
                "party": {"age": 40}, "payers": {"holder": "BA-1", "viewer": "BA-2"}}
    assume(items)
    order = draw(st.permutations(range(len(items))))
    return name, {**data, "items": numbered([items[i] for i in order])}


def check(name: str, data: dict[str, Any], explain: bool = False) -> ValidationResult:
    project = PROJECTS[name]
    return validate_basket(Basket.model_validate(data), project.catalog, project.rules, explain=explain)


def what(result: ValidationResult) -> Counter:
    """The violations without where they point."""
    return Counter((v.code, v.rule, v.rule_set, v.message) for v in result.violations)


def shuffled(items: list[dict[str, Any]], rnd: random.Random) -> list[dict[str, Any]]:
    out = [{**item, **({"items": shuffled(item["items"], rnd)} if "items" in item else {})} for item in items]
    rnd.shuffle(out)
    return out


# --- what an item brings, and what is required or forbidden --------------------------------------


def contributions(project: Project, item: dict[str, Any]) -> set[tuple[str, str]]:
    """Every catalog id an item (and its components) puts into the basket."""
    found = {("productOffering", item["offering"])}
    offering = project.catalog.offerings.get(item["offering"])
    spec_id = offering.product_specification if offering else None
    if spec_id:
        found.add(("productSpecification", spec_id))
        spec = project.catalog.product_specifications[spec_id]
        found |= {("resourceSpecification", r) for r in spec.resource_specifications}
    found |= {("resourceSpecification", r) for r in item.get("resources", [])}
    for child in item.get("items", []):
        found |= contributions(project, child)
    return found


def compatibility_rules(project: Project) -> list[Any]:
    return [rule.source for compiled in project.rules if compiled.kind == "compatibility" for rule in compiled.rules]


def required_ids(project: Project) -> set[tuple[str, str]]:
    """Whatever some rule or relationship may require: removing it could break a basket."""
    required = {("productOffering", r.offering) for o in project.catalog.offerings.values()
                for r in o.relationships if r.type == "requires"}
    for rule in compatibility_rules(project):
        if rule.type == "required":
            required.add((rule.target.kind, rule.target.id))
        if rule.type == "exactlyOne":
            children = project.catalog.resource_specifications[rule.subject.id].children \
                if rule.subject.kind == "resourceSpecification" else []
            required |= {(rule.subject.kind, a) for a in (rule.among or children)}
    return required


def forbidden_partners(project: Project) -> set[tuple[str, str]]:
    """Both sides of every forbidden rule and every exclusion."""
    partners = set()
    for o in project.catalog.offerings.values():
        for r in o.relationships:
            if r.type == "excludes":
                partners |= {("productOffering", o.id), ("productOffering", r.offering)}
    for rule in compatibility_rules(project):
        if rule.type == "forbidden":
            partners |= {(rule.subject.kind, rule.subject.id), (rule.target.kind, rule.target.id)}
    return partners


def test_the_helpers_see_the_devices_examples_requirements_and_forbidden_pairs():
    assert ("resourceSpecification", "sim-small") in required_ids(DEVICES)
    assert ("resourceSpecification", "sim-large") in required_ids(DEVICES)  # one of exactly one form factor
    assert {("resourceSpecification", "terminal-smartphone"), ("resourceSpecification", "sim-large"),
            ("productOffering", "ipad-mini-std"), ("productOffering", "ipad-mini-deluxe")} <= forbidden_partners(DEVICES)
    assert ("productOffering", "line-any") in required_ids(HOME)
    assert ("productOffering", "tv-legacy") in forbidden_partners(HOME)


# --- the properties ----------------------------------------------------------------------------


@SETTINGS
@given(baskets())
def test_validating_the_same_basket_twice_gives_the_same_result(case):
    name, data = case
    first = check(name, data, explain=True).to_dict()
    assert check(name, data, explain=True).to_dict() == first
    assert check(name, data, explain=False).to_dict()["valid"] == first["valid"]


@SETTINGS
@given(baskets(), st.randoms(use_true_random=False))
def test_the_order_of_the_items_does_not_change_which_violations_a_basket_has(case, rnd):
    name, data = case
    before = check(name, data)
    after = check(name, {**data, "items": shuffled(data["items"], rnd)})
    assert what(after) == what(before)
    assert after.valid == before.valid


@SETTINGS
@given(valid_baskets(), st.data())
def test_removing_an_item_nothing_requires_keeps_a_valid_basket_valid(case, data):
    name, basket = case
    project = PROJECTS[name]
    assert check(name, basket).valid, check(name, basket).to_dict()
    required = required_ids(project)
    removable = [i for i, item in enumerate(basket["items"]) if not contributions(project, item) & required]
    assume(removable)
    index = data.draw(st.sampled_from(removable))
    smaller = {**basket, "items": basket["items"][:index] + basket["items"][index + 1:]}
    result = check(name, smaller)
    assert result.valid, (basket["items"][index]["offering"], result.to_dict())


@SETTINGS
@given(baskets(), st.data())
def test_adding_a_duplicate_of_a_forbidden_pair_partner_never_makes_an_invalid_basket_valid(case, data):
    name, basket = case
    project = PROJECTS[name]
    before = check(name, basket)
    assume(not before.valid)
    partners = forbidden_partners(project)
    candidates = [item for item in basket["items"] if contributions(project, item) & partners]
    assume(candidates)
    duplicate = {**data.draw(st.sampled_from(candidates)), "id": "duplicate"}
    at = data.draw(st.integers(0, len(basket["items"])))
    after = check(name, {**basket, "items": basket["items"][:at] + [duplicate] + basket["items"][at:]})
    assert not after.valid
    assert not what(before) - what(after), "a violation disappeared when a duplicate was added"
