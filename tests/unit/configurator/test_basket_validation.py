"""Basket validation on the small inline home catalog (see conftest.py): each violation code
from the one entity that provokes it, the JSON path it points at, and every violation of a
basket reported at once."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bssrules.catalog.catalog import Origin
from bssrules.configurator.model import Basket
from bssrules.configurator.validate import validate_basket
from bssrules.rules.compiled import compile_rule_set
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import SplitBillingRuleSet
from bssrules.rules.project import load_project_texts

from basket_catalogs import HOME_CATALOG, HOME_RULES

LINE = {"id": "line", "offering": "line-any", "characteristics": {"speed": 500}}
ROUTER = {"id": "router", "offering": "router", "characteristics": {"ports": 4}}
BOTH_PAYERS = {"holder": "BA-1", "viewer": "BA-2"}


def codes(result: Any) -> list[str]:
    return [v.code for v in result.violations]


def by_code(result: Any, code: str) -> list[dict[str, Any]]:
    return [v.to_dict() for v in result.violations if v.code == code]


def only(result: Any, code: str) -> dict[str, Any]:
    found = by_code(result, code)
    assert len(found) == 1, [v.to_dict() for v in result.violations]
    return found[0]


# --- the offerings themselves --------------------------------------------------------------


def test_a_valid_basket_has_no_violation(home, validate):
    result = validate(home, {"channel": "shop", "items": [LINE, ROUTER]})
    assert result.valid and result.violations == []
    assert result.to_dict() == {"valid": True, "violations": []}


def test_an_unknown_offering_is_reported_with_the_closest_known_id(home, validate):
    result = validate(home, {"items": [LINE, {"id": "x", "offering": "line-anny"}]})
    violation = only(result, "unknownOffering")
    assert violation["path"] == "$.items[1].offering"
    assert violation["message"] == "unknown offering 'line-anny' (did you mean 'line-any'?)"


def test_an_unknown_offering_far_from_every_id_gets_no_suggestion(home, validate):
    violation = only(validate(home, {"items": [{"id": "x", "offering": "zzzz"}]}), "unknownOffering")
    assert "did you mean" not in violation["message"]


def test_an_unknown_offering_is_not_checked_any_further(home, validate):
    result = validate(home, {"items": [{"id": "x", "offering": "no-such-thing", "quantity": 2,
                                        "characteristics": {"whatever": 1}, "items": [ROUTER]}]})
    assert codes(result) == ["unknownOffering"]  # the component itself is valid


def test_a_retired_offering_is_not_sellable(home, validate):
    violation = only(validate(home, {"items": [{"id": "x", "offering": "tv-legacy"}]}), "notSellable")
    assert violation["path"] == "$.items[0].offering"
    assert "Retired" in violation["message"]


@pytest.mark.parametrize("as_of, in_force", [
    ("2025-12-31T23:59:59Z", False),
    ("2026-01-01", True),
    ("2026-06-30T23:59:59Z", True),
    ("2026-07-01", False),  # validFor is half-open: its end is no longer valid
    ("2026-09-01", False),
])
def test_an_offering_is_in_force_only_within_its_validity_at_the_baskets_date(home, validate, as_of, in_force):
    result = validate(home, {"asOf": as_of, "items": [{"id": "p", "offering": "promo"}]})
    if in_force:
        assert result.valid
    else:
        violation = only(result, "notInForce")
        assert violation["path"] == "$.items[0].offering"
        assert as_of[:10] in violation["message"]
        # the period and the instant of the decision, not a date alone (an offering ending at
        # noon is not offered that afternoon)
        assert violation["message"].startswith("offering 'promo' is offered from 2026-01-01T00:00:00Z to "
                                               "2026-07-01T00:00:00Z (validFor, its end excluded), not at ")


def test_an_offering_sold_only_in_bundles_is_refused_on_its_own(home, validate):
    violation = only(validate(home, {"items": [{"id": "s", "offering": "tv-sports"}]}), "notSellableAlone")
    assert violation["path"] == "$.items[0].offering"


def test_an_offering_sold_only_in_bundles_is_accepted_as_a_component(home, validate):
    result = validate(home, {"items": [{"id": "b", "offering": "home-bundle", "items": [
        LINE, {"id": "s", "offering": "tv-sports"}]}]})
    assert result.valid, result.to_dict()


def test_an_add_on_that_is_not_sellable_alone_is_accepted_with_the_offering_it_is_an_add_on_of(home, validate):
    sports = {"id": "s", "offering": "tv-sports"}
    beside = validate(home, {"items": [LINE, sports]})
    under = validate(home, {"items": [{**LINE, "items": [sports]}]})
    assert beside.valid or under.valid, (beside.to_dict(), under.to_dict())


def test_an_offering_is_refused_through_a_channel_it_is_not_sold_through(home, validate):
    violation = only(validate(home, {"channel": "web", "items": [LINE, ROUTER]}), "channelNotAllowed")
    assert violation["path"] == "$.items[1].offering"
    assert violation["message"] == "offering 'router' is not sold through channel 'web' (only shop)"


def test_the_channel_is_not_checked_without_a_channel_or_for_offerings_without_channels(home, validate):
    assert validate(home, {"items": [ROUTER]}).valid
    assert validate(home, {"channel": "phone", "items": [
        {"id": "g", "offering": "line-1g"}]}).valid


def test_the_channel_of_a_bundle_component_is_not_checked(home, validate):
    # router is sold through the shop only, but inside the bundle the bundle's channels count.
    result = validate(home, {"channel": "web", "items": [{"id": "b", "offering": "home-bundle", "items": [
        LINE, ROUTER]}]})
    assert result.valid, result.to_dict()


# --- bundles -------------------------------------------------------------------------------


def test_components_under_an_offering_that_is_not_a_bundle_are_refused(home, validate):
    result = validate(home, {"items": [{**LINE, "items": [ROUTER]}]})
    violation = only(result, "notABundle")
    assert violation["path"] == "$.items[0].items"


def test_a_component_the_bundle_does_not_list_is_refused(home, validate):
    result = validate(home, {"items": [{"id": "b", "offering": "home-bundle", "items": [
        LINE, ROUTER, {"id": "g", "offering": "line-1g"}]}]})
    violation = only(result, "notInBundle")
    assert violation["path"] == "$.items[0].items[2].offering"
    assert "'line-1g' is not a component of bundle 'home-bundle'" in violation["message"]


def test_a_bundle_without_components_takes_the_default_counts(home, validate):
    assert validate(home, {"items": [{"id": "b", "offering": "home-bundle"}]}).valid


def test_once_some_components_are_given_the_others_count_zero(home, validate):
    result = validate(home, {"items": [{"id": "b", "offering": "home-bundle", "items": [ROUTER]}]})
    violation = only(result, "bundleCardinality")
    assert violation["path"] == "$.items[0].items"
    assert (violation["component"], violation["min"], violation["max"], violation["count"]) == ("line-any", 1, 1, 0)


def test_a_bundle_refuses_more_of_a_component_than_its_max_counting_quantities(home, validate):
    result = validate(home, {"items": [{"id": "b", "offering": "home-bundle", "items": [
        LINE, {**ROUTER, "quantity": 2}, {**ROUTER, "id": "router-2"}]}]})
    violation = only(result, "bundleCardinality")
    assert (violation["component"], violation["count"], violation["max"]) == ("router", 3, 2)
    assert violation["message"] == "bundle 'home-bundle' takes 0 to 2 of 'router', the basket has 3"


def test_a_bundle_accepts_a_component_up_to_its_max(home, validate):
    assert validate(home, {"items": [{"id": "b", "offering": "home-bundle", "items": [
        LINE, {**ROUTER, "quantity": 2}]}]}).valid


# --- characteristics -----------------------------------------------------------------------


def test_an_unknown_characteristic_is_reported_with_the_closest_name(home, validate):
    result = validate(home, {"items": [{**ROUTER, "characteristics": {"ports": 4, "colur": "red"}}]})
    violation = only(result, "unknownCharacteristic")
    assert violation["path"] == "$.items[0].characteristics.colur"
    assert "did you mean 'colour'?" in violation["message"]


def test_characteristics_on_an_offering_without_a_specification_are_unknown(home, validate):
    result = validate(home, {"items": [{"id": "b", "offering": "home-bundle", "characteristics": {"speed": 100}}]})
    violation = only(result, "unknownCharacteristic")
    assert violation["path"] == "$.items[0].characteristics"


def test_more_values_than_the_max_cardinality_are_refused(home, validate):
    result = validate(home, {"items": [{**ROUTER, "characteristics": {"ports": 4, "colour": ["black", "white", "red"]}}]})
    violation = only(result, "tooManyValues")
    assert violation["path"] == "$.items[0].characteristics.colour"
    assert violation["message"] == "'colour' takes at most 2 value(s), got 3"


def test_values_up_to_the_max_cardinality_are_accepted(home, validate):
    assert validate(home, {"items": [{**ROUTER, "characteristics": {"ports": 4, "colour": ["black", "red"]}}]}).valid


@pytest.mark.parametrize("offering, name, value, problem", [
    ("router", "ports", "4", "'4' is not of valueType integer"),
    ("router", "ports", 2.5, "2.5 is not of valueType integer"),
    ("router", "ports", True, "true is not of valueType integer"),
    ("router", "ports", 9, "9 is outside 1..8"),
    ("router", "ports", 0, "0 is outside 1..8"),
    ("router", "colour", "blue", "'blue' is not one of 'black', 'white', 'red'"),
    ("router", "weight", "heavy", "'heavy' is not of valueType number"),
    ("router", "wifi6", "yes", "'yes' is not of valueType boolean"),
    ("router", "installDate", "2026-02-30", "'2026-02-30' is not of valueType date"),
    ("router", "installDate", "tomorrow", "'tomorrow' is not of valueType date"),
    ("router-white", "colour", "black", "'black' is not offered by this offering (only 'white')"),
    ("line-dual", "speed", 1000, "1000 is not offered by this offering (only 100, 500)"),
])
def test_a_value_of_the_wrong_type_outside_the_values_or_range_or_not_offered_is_invalid(
        home, validate, offering, name, value, problem):
    characteristics = {"ports": 4, name: value} if offering.startswith("router") else {name: value}
    result = validate(home, {"items": [{"id": "x", "offering": offering, "characteristics": characteristics}]})
    violation = only(result, "invalidCharacteristicValue")
    assert violation["path"] == f"$.items[0].characteristics.{name}"
    assert violation["message"] == f"'{name}': {problem}"


def test_each_wrong_value_of_a_list_is_reported(home, validate):
    result = validate(home, {"items": [{**ROUTER, "characteristics": {"ports": 4, "colour": ["blue", "pink"]}}]})
    assert [v["message"] for v in by_code(result, "invalidCharacteristicValue")] == [
        "'colour': 'blue' is not one of 'black', 'white', 'red'",
        "'colour': 'pink' is not one of 'black', 'white', 'red'"]


def test_values_of_every_type_within_their_constraints_are_accepted(home, validate):
    result = validate(home, {"items": [{"id": "r", "offering": "router", "characteristics": {
        "ports": 8, "firmware": "beta", "colour": "red", "weight": 1.25, "wifi6": False,
        "installDate": "2026-10-01", "serial": "SN-0"}}]})
    assert result.valid, result.to_dict()


def test_a_value_allowed_by_the_offerings_characteristic_use_is_accepted(home, validate):
    assert validate(home, {"items": [{"id": "w", "offering": "router-white",
                                      "characteristics": {"ports": 1, "colour": "white"}}]}).valid


def test_a_characteristic_that_is_not_configurable_takes_only_its_default(home, validate):
    result = validate(home, {"items": [{**ROUTER, "characteristics": {"ports": 4, "serial": "SN-9"}}]})
    violation = only(result, "notConfigurable")
    assert violation["path"] == "$.items[0].characteristics.serial"
    assert violation["message"] == "'serial' is not configurable (it is 'SN-0')"


def test_a_mandatory_characteristic_without_a_default_must_be_given(home, validate):
    result = validate(home, {"items": [{"id": "r", "offering": "router"}]})
    violation = only(result, "missingCharacteristic")
    assert violation["path"] == "$.items[0].characteristics"
    assert violation["message"] == "'ports' of 'router' is required"  # not firmware: it has a default


def test_a_mandatory_characteristic_pinned_to_one_value_by_the_offering_need_not_be_given(home, validate):
    assert validate(home, {"items": [{"id": "g", "offering": "line-1g"}]}).valid


def test_a_mandatory_characteristic_narrowed_to_several_values_must_still_be_given(home, validate):
    violation = only(validate(home, {"items": [{"id": "d", "offering": "line-dual"}]}), "missingCharacteristic")
    assert violation["message"] == "'speed' of 'line' is required"


def test_an_empty_list_does_not_give_a_mandatory_characteristic(home, validate):
    result = validate(home, {"items": [{"id": "r", "offering": "router", "characteristics": {"ports": []}}]})
    assert not result.valid
    assert any(v.to_dict()["path"].startswith("$.items[0].characteristics") for v in result.violations)


# --- prerequisites and exclusions of the catalog --------------------------------------------


def test_an_offering_without_its_prerequisite_is_refused(home, validate):
    violation = only(validate(home, {"items": [{"id": "t", "offering": "tv-box"}]}), "missingPrerequisite")
    assert violation["path"] == "$.items[0].offering"
    assert violation["requires"] == "line-any"


def test_a_prerequisite_in_the_basket_satisfies_the_requirement(home, validate):
    assert validate(home, {"items": [{"id": "t", "offering": "tv-box"}, LINE]}).valid


def test_a_prerequisite_inside_a_bundle_satisfies_the_requirement(home, validate):
    assert validate(home, {"items": [{"id": "t", "offering": "tv-box"},
                                     {"id": "b", "offering": "home-bundle", "items": [LINE]}]}).valid


@pytest.mark.parametrize("status", ["active", "suspended", "pendingTerminate"])
def test_an_effective_product_of_the_inventory_satisfies_the_requirement(home, validate, status):
    result = validate(home, {"inventory": [{"id": "p1", "offering": "line-any", "status": status}],
                             "items": [{"id": "t", "offering": "tv-box"}]})
    assert result.valid, result.to_dict()


@pytest.mark.parametrize("status", ["terminated", "cancelled", "aborted"])
def test_a_product_that_is_no_longer_effective_does_not_satisfy_the_requirement(home, validate, status):
    result = validate(home, {"inventory": [{"id": "p1", "offering": "line-any", "status": status}],
                             "items": [{"id": "t", "offering": "tv-box"}]})
    assert only(result, "missingPrerequisite")["requires"] == "line-any"


@pytest.mark.parametrize("as_of, required", [("2025-12-31", True), ("2026-01-01", False)])
def test_a_prerequisite_applies_only_while_its_relationship_is_valid(home, validate, as_of, required):
    result = validate(home, {"asOf": as_of, "items": [{"id": "t", "offering": "tv-old-rule"}]})
    assert codes(result) == (["missingPrerequisite"] if required else [])


def test_two_offerings_that_exclude_each_other_are_refused_in_one_basket(home, validate):
    result = validate(home, {"items": [{"id": "t", "offering": "tv-box"}, LINE, {"id": "l", "offering": "tv-legacy"}]})
    violation = only(result, "excluded")
    assert violation["path"] == "$.items[0].offering"
    assert violation["excludes"] == "tv-legacy"
    assert violation["message"] == "'tv-box' cannot go with 'tv-legacy' (in the basket)"


def test_an_excluded_offering_already_owned_is_refused(home, validate):
    result = validate(home, {"inventory": [{"id": "p1", "offering": "tv-legacy"}],
                             "items": [{"id": "t", "offering": "tv-box"}, LINE]})
    assert only(result, "excluded")["message"] == "'tv-box' cannot go with 'tv-legacy' (already owned)"


def test_an_offering_that_an_owned_product_excludes_is_refused(home, validate):
    """tv-box excludes tv-legacy: owning tv-box and buying tv-legacy is the same pair, seen
    from the other side (only buying tv-box beside an owned tv-legacy was refused)."""
    result = validate(home, {"inventory": [{"id": "p1", "offering": "tv-box"}, {"id": "p0", "offering": "line-any"}],
                             "items": [{"id": "l", "offering": "tv-legacy"}]})
    violation = only(result, "excluded")
    assert violation["path"] == "$.items[0].offering"
    assert violation["excludedBy"] == "tv-box" and violation["product"] == "p1"
    assert violation["message"] == ("'tv-legacy' cannot go with 'tv-box' (already owned: product 'p1', whose "
                                    "offering excludes it)")


@pytest.mark.parametrize("status", ["terminated", "cancelled"])
def test_an_owned_product_that_excludes_an_offering_no_longer_matters_once_ended(home, validate, status):
    result = validate(home, {"inventory": [{"id": "p1", "offering": "tv-box", "status": status}],
                             "items": [{"id": "l", "offering": "tv-legacy"}]})
    assert "excluded" not in codes(result)


def test_an_excluded_offering_owned_but_terminated_does_not_matter(home, validate):
    assert validate(home, {"inventory": [{"id": "p1", "offering": "tv-legacy", "status": "terminated"}],
                           "items": [{"id": "t", "offering": "tv-box"}, LINE]}).valid


# --- rules: eligibility, compatibility, split billing --------------------------------------


def test_an_ineligible_item_gets_the_rules_reason_label_alternate_and_explanation(home_with_rules, validate):
    result = validate(home_with_rules, {"party": {"age": 16}, "payers": BOTH_PAYERS,
                                        "items": [LINE, {"id": "t", "offering": "tv-box"}]})
    violation = only(result, "notEligible")
    assert violation["path"] == "$.items[1].offering"
    assert (violation["rule"], violation["ruleSet"]) == ("tv-for-adults", "home-eligibility")
    assert (violation["reason"], violation["label"], violation["alternate"]) == (
        "minor", "The TV box is sold to adults", "tv-sports")
    assert violation["message"] == "'tv-box': The TV box is sold to adults"
    [trace] = violation["explanation"]
    assert trace["rule"] == "tv-for-adults" and trace["fired"] is True
    assert trace["when"]["condition"] == "party.age gte 18"
    assert trace["when"]["result"] is False


def test_an_eligible_party_passes_the_eligibility_rules(home_with_rules, validate):
    assert validate(home_with_rules, {"party": {"age": 30}, "payers": BOTH_PAYERS,
                                      "items": [LINE, {"id": "t", "offering": "tv-box"}]}).valid


def test_without_explain_a_violation_carries_no_explanation(home_with_rules, validate):
    result = validate(home_with_rules, {"party": {"age": 16}, "payers": BOTH_PAYERS,
                                        "items": [LINE, {"id": "t", "offering": "tv-box"}]}, explain=False)
    violation = only(result, "notEligible")
    assert "explanation" not in violation and violation["reason"] == "minor"


def test_a_forbidden_pair_in_the_basket_is_incompatible_at_the_subjects_item(home_with_rules, validate):
    result = validate(home_with_rules, {"payers": BOTH_PAYERS, "items": [
        {"id": "g", "offering": "line-1g"}, {"id": "l", "offering": "tv-legacy"}]})
    violation = only(result, "incompatible")
    assert violation["path"] == "$.items[1]"
    assert (violation["rule"], violation["ruleSet"], violation["type"]) == (
        "no-legacy-box-on-gigabit", "home-compatibility", "forbidden")
    assert violation["message"] == "The legacy TV box does not work on a gigabit line."
    assert [t["rule"] for t in violation["explanation"]] == ["no-legacy-box-on-gigabit"]


def test_a_forbidden_partner_in_the_inventory_is_incompatible_at_the_inventory_product(home_with_rules, validate):
    result = validate(home_with_rules, {"inventory": [{"id": "p1", "offering": "tv-legacy"}],
                                        "items": [{"id": "g", "offering": "line-1g"}]})
    assert only(result, "incompatible")["path"] == "$.inventory[0]"


def test_a_terminated_inventory_product_is_not_checked_for_compatibility(home_with_rules, validate):
    result = validate(home_with_rules, {"inventory": [{"id": "p1", "offering": "tv-legacy", "status": "terminated"}],
                                        "items": [{"id": "g", "offering": "line-1g"}]})
    assert result.valid, result.to_dict()


@pytest.mark.parametrize("as_of, applies", [("2026-06-30T23:59:59Z", True), ("2026-07-01", False)])
def test_a_compatibility_rule_applies_only_within_its_validity_at_the_baskets_date(
        home_with_rules, validate, as_of, applies):
    result = validate(home_with_rules, {"asOf": as_of, "items": [ROUTER]})
    assert [v.rule for v in result.violations] == (["router-needs-line"] if applies else [])


def test_a_charge_whose_payer_has_no_billing_account_is_refused(home_with_rules, validate):
    result = validate(home_with_rules, {"party": {"age": 30}, "payers": {"holder": "BA-1"},
                                        "items": [LINE, {"id": "t", "offering": "tv-box"}]})
    violation = only(result, "noBillingAccount")
    assert violation["path"] == "$.payers"
    assert (violation["payer"], violation["price"], violation["item"]) == ("viewer", "tv-per-film", "$.items[1]")
    assert (violation["rule"], violation["ruleSet"]) == ("films-to-viewer", "home-billing")


def test_the_default_payer_needs_a_billing_account_too(home_with_rules, validate):
    violation = only(validate(home_with_rules, {"items": [LINE]}), "noBillingAccount")
    assert (violation["payer"], violation["rule"], violation["price"]) == ("holder", "default", "line-monthly")


def test_a_charge_no_split_billing_rule_assigns_has_no_payer(home):
    # The loader refuses such a rule set (lint: noPayer); a rule book built without it can still hold one.
    rule_set = SplitBillingRuleSet.model_validate({"id": "partial-billing", "kind": "splitBilling", "rules": [
        {"id": "recurring-to-holder", "when": {"charge.type": "recurring"}, "payer": "holder"}]})
    book = RuleBook()
    book.add(compile_rule_set(rule_set), Origin("rules.yaml", 1))
    basket = Basket.model_validate({"asOf": "2026-09-01", "payers": {"holder": "BA-1"},
                                    "items": [LINE, {"id": "t", "offering": "tv-box"}]})
    result = validate_basket(basket, home.catalog, book)
    assert codes(result) == ["noPayer"]
    violation = result.violations[0].to_dict()
    assert violation["path"] == "$.items[1].offering"
    assert (violation["ruleSet"], violation["price"]) == ("partial-billing", "tv-per-film")
    assert "rule" not in violation


# --- every violation at once ----------------------------------------------------------------


def test_every_violation_of_a_basket_is_reported_at_once_each_at_its_path(home_with_rules, validate):
    result = validate(home_with_rules, {"channel": "web", "party": {"age": 12}, "items": [
        {"id": "a", "offering": "line-anny"},
        {"id": "b", "offering": "tv-box"},
        {"id": "c", "offering": "router", "characteristics": {"ports": 12, "colour": ["black", "white", "red"],
                                                              "serial": "SN-1", "sped": 1}},
        {"id": "d", "offering": "home-bundle", "items": [{"id": "d1", "offering": "line-1g"}]},
        {"id": "e", "offering": "promo"},
        {"id": "f", "offering": "tv-sports"},
        {"id": "g", "offering": "line-dual", "items": [ROUTER]},
    ]})
    assert not result.valid
    assert Counter((v.code, v.to_dict()["path"]) for v in result.violations) == Counter([
        ("unknownOffering", "$.items[0].offering"),
        ("channelNotAllowed", "$.items[2].offering"),
        ("invalidCharacteristicValue", "$.items[2].characteristics.ports"),
        ("tooManyValues", "$.items[2].characteristics.colour"),
        ("notConfigurable", "$.items[2].characteristics.serial"),
        ("unknownCharacteristic", "$.items[2].characteristics.sped"),
        ("notInBundle", "$.items[3].items[0].offering"),
        ("bundleCardinality", "$.items[3].items"),
        ("notInForce", "$.items[4].offering"),
        ("notSellableAlone", "$.items[5].offering"),
        ("notABundle", "$.items[6].items"),
        ("missingCharacteristic", "$.items[6].characteristics"),
        ("missingPrerequisite", "$.items[1].offering"),
        ("notEligible", "$.items[1].offering"),
        ("noBillingAccount", "$.payers"),
    ])
    # The catalog checks come first, item by item, then the rule sets.
    assert codes(result)[-2:] == ["notEligible", "noBillingAccount"]


def test_the_result_is_the_same_as_a_dictionary(home, validate):
    result = validate(home, {"items": [{"id": "t", "offering": "tv-box"}]})
    assert result.to_dict() == {"valid": False, "violations": [{
        "code": "missingPrerequisite",
        "message": "'tv-box' requires 'line-any', which is neither in the basket nor an effective product",
        "path": "$.items[0].offering", "requires": "line-any"}]}


def test_without_rules_only_the_catalog_is_checked(home_with_rules):
    basket = Basket.model_validate({"asOf": "2026-09-01", "party": {"age": 3},
                                    "items": [LINE, {"id": "t", "offering": "tv-box"}]})
    assert validate_basket(basket, home_with_rules.catalog).valid
    assert not validate_basket(basket, home_with_rules.catalog, home_with_rules.rules).valid


def test_a_price_the_catalog_holds_anew_is_charged_as_it_is_now(validate):
    # an offering's charges are kept per offering, each taken while the catalog still holds that very price
    project = load_project_texts({"catalog.yaml": HOME_CATALOG, "rules.yaml": HOME_RULES})
    films = {"party": {"age": 30}, "payers": {"holder": "BA-1"}, "items": [LINE, {"id": "t", "offering": "tv-box"}]}
    assert [v.to_dict()["payer"] for v in validate(project, films).violations] == ["viewer"]
    price = project.catalog.prices["tv-per-film"]
    project.catalog.add(price.model_copy(update={"price_type": "recurring", "recurring_period": "month"}))
    assert validate(project, films).valid  # a recurring charge goes to the holder, who has an account
