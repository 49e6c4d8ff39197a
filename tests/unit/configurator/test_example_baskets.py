"""Basket validation on the three example projects (examples/devices, examples/ppv,
examples/connected_car): the scenarios of the seeds, with the catalog and rules as shipped."""
from __future__ import annotations

from typing import Any

import pytest

SMALL_PLAN = {"id": "plan", "offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "SMALL"},
              "resources": ["sim-small"]}
LARGE_PLAN = {"id": "plan", "offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "LARGE"},
              "resources": ["sim-large"]}
SMARTPHONE = {"id": "phone", "offering": "smartphone", "resources": ["terminal-smartphone"]}
IPAD_STD = {"id": "ipad", "offering": "ipad-mini-std"}
IPAD_DELUXE = {"id": "ipad-32", "offering": "ipad-mini-deluxe"}
MOVIE = {"id": "movie", "offering": "ppv-movie", "characteristics": {"title": "Heat"}}


def dicts(result: Any, code: str | None = None) -> list[dict[str, Any]]:
    return [v.to_dict() for v in result.violations if code is None or v.code == code]


def rules_of(result: Any) -> list[tuple[str, str | None]]:
    return [(v.code, v.rule) for v in result.violations]


# --- devices: SIM form factors and terminals -------------------------------------------------


def test_a_smartphone_with_a_plan_whose_sim_is_large_is_incompatible(devices, validate):
    result = validate(devices, {"channel": "shop", "items": [LARGE_PLAN, SMARTPHONE]})
    assert rules_of(result) == [("incompatible", "smartphone-needs-small-sim"),
                                ("incompatible", "smartphone-refuses-large-sim")]
    for violation in dicts(result):
        assert violation["path"] == "$.items[1]"  # the smartphone brings the terminal the rules speak of
        assert violation["ruleSet"] == "sim-terminal-compatibility"
        assert violation["subject"] == "resourceSpecification terminal-smartphone"
    assert dicts(result)[1]["message"] == "A large SIM does not fit a smartphone."


def test_a_smartphone_with_a_plan_whose_sim_is_small_is_valid(devices, validate):
    result = validate(devices, {"channel": "shop", "items": [SMALL_PLAN, SMARTPHONE]})
    assert result.valid, result.to_dict()


def test_the_smartphone_rules_do_not_depend_on_the_order_of_the_items(devices, validate):
    result = validate(devices, {"channel": "shop", "items": [SMARTPHONE, LARGE_PLAN]})
    assert [v.rule for v in result.violations] == ["smartphone-needs-small-sim", "smartphone-refuses-large-sim"]
    assert {v.to_dict()["path"] for v in result.violations} == {"$.items[0]"}


@pytest.mark.parametrize("resources", [[], ["sim-large", "sim-small"]])
def test_a_plan_whose_sim_has_no_or_two_form_factors_is_incompatible(devices, validate, resources):
    plan = {**SMALL_PLAN, "resources": resources}
    result = validate(devices, {"items": [plan]})
    assert rules_of(result) == [("incompatible", "one-form-factor")]
    assert dicts(result)[0]["path"] == "$.items[0]"


@pytest.mark.parametrize("plan, valid", [(SMALL_PLAN, True), (LARGE_PLAN, False)])
def test_an_ipad_mini_needs_a_small_sim_in_the_basket(devices, validate, plan, valid):
    result = validate(devices, {"items": [plan, IPAD_STD]})
    assert rules_of(result) == ([] if valid else [("incompatible", "ipad-needs-small-sim")])


def test_both_ipad_memory_sizes_in_one_basket_are_excluded_and_incompatible(devices, validate):
    result = validate(devices, {"items": [SMALL_PLAN, IPAD_STD, IPAD_DELUXE]})
    assert rules_of(result) == [("excluded", None), ("incompatible", "one-ipad-memory-size")]
    excluded, incompatible = dicts(result)
    assert excluded["path"] == "$.items[2].offering" and excluded["excludes"] == "ipad-mini-std"
    assert incompatible["path"] == "$.items[2]" and incompatible["ruleSet"] == "tablet-options"


def test_a_smartphone_already_owned_is_incompatible_with_a_large_sim_in_the_basket(devices, validate):
    result = validate(devices, {"inventory": [{"id": "p1", "offering": "smartphone", "resources": ["terminal-smartphone"]}],
                                "items": [LARGE_PLAN]})
    assert rules_of(result) == [("incompatible", "smartphone-needs-small-sim"),
                                ("incompatible", "smartphone-refuses-large-sim")]
    assert {v["path"] for v in dicts(result)} == {"$.inventory[0]"}


def test_a_terminated_smartphone_does_not_constrain_the_sim(devices, validate):
    result = validate(devices, {"inventory": [{"id": "p1", "offering": "smartphone", "status": "terminated",
                                               "resources": ["terminal-smartphone"]}], "items": [LARGE_PLAN]})
    assert result.valid, result.to_dict()


@pytest.mark.parametrize("as_of, applies", [("2026-06-30T23:59:59Z", True), ("2026-07-01", False),
                                             ("2026-09-01", False)])
def test_the_classic_phone_rule_applies_only_until_it_ended_on_1_july_2026(devices, validate, as_of, applies):
    result = validate(devices, {"asOf": as_of, "items": [SMALL_PLAN], "inventory": [
        {"id": "p1", "offering": "classic-phone", "resources": ["terminal-classic-phone"]}]})
    if applies:
        assert rules_of(result) == [("incompatible", "classic-phone-needs-large-sim")]
        violation = dicts(result)[0]
        assert violation["path"] == "$.inventory[0]"
        assert violation["explanation"][0]["rule"] == "classic-phone-needs-large-sim"
    else:
        assert result.valid, result.to_dict()


@pytest.mark.parametrize("as_of, codes", [("2026-03-01", ["notSellable"]),
                                          ("2026-09-01", ["notSellable", "notInForce"])])
def test_the_retired_classic_phone_cannot_be_ordered(devices, validate, as_of, codes):
    result = validate(devices, {"asOf": as_of, "channel": "shop", "items": [
        {"id": "old", "offering": "classic-phone"}]})
    assert [v.code for v in result.violations] == codes
    assert {v["path"] for v in dicts(result)} == {"$.items[0].offering"}


def test_a_memory_size_the_offering_does_not_sell_is_reported_at_its_characteristic(devices, validate):
    result = validate(devices, {"items": [SMALL_PLAN, {**IPAD_STD, "characteristics": {"memorySize": "32GB"}}]})
    [violation] = dicts(result)
    assert violation["code"] == "invalidCharacteristicValue"
    assert violation["path"] == "$.items[1].characteristics.memorySize"
    assert violation["message"] == "'memorySize': '32GB' is not offered by this offering (only '16GB')"


def test_the_memory_size_pinned_by_the_offering_need_not_be_given(devices, validate):
    assert validate(devices, {"items": [SMALL_PLAN, IPAD_STD, {**SMARTPHONE, "characteristics": {}}]}).valid


def test_the_sim_form_factor_of_a_plan_is_required(devices, validate):
    plan = {**SMALL_PLAN, "characteristics": {}}
    [violation] = dicts(validate(devices, {"items": [plan]}))
    assert (violation["code"], violation["path"]) == ("missingCharacteristic", "$.items[0].characteristics")


def test_an_add_on_sold_only_with_its_plan_is_refused_on_its_own(devices, validate):
    result = validate(devices, {"items": [{"id": "x", "offering": "extra-minutes"}]})
    assert "notSellableAlone" in [v.code for v in result.violations]


def test_a_bundle_component_that_is_not_part_of_the_bundle_is_reported_at_its_path(devices, validate):
    result = validate(devices, {"channel": "web", "items": [{"id": "b", "offering": "mobile-with-tablet", "items": [
        SMALL_PLAN, IPAD_STD, SMARTPHONE]}]})
    [violation] = dicts(result)
    assert violation["code"] == "notInBundle"
    assert violation["path"] == "$.items[0].items[2].offering"


def test_the_tablet_bundle_without_components_is_valid_with_its_default_counts(devices, validate):
    assert validate(devices, {"channel": "web", "items": [{"id": "b", "offering": "mobile-with-tablet"}]}).valid


def test_the_tablet_bundle_takes_one_plan_at_most(devices, validate):
    result = validate(devices, {"items": [{"id": "b", "offering": "mobile-with-tablet", "items": [
        {**SMALL_PLAN, "quantity": 2}]}]})
    [violation] = dicts(result)
    assert violation["code"] == "bundleCardinality"
    assert (violation["component"], violation["count"], violation["max"]) == ("mobile-telephony-plan", 2, 1)


def test_an_unknown_device_gets_a_suggestion(devices, validate):
    [violation] = dicts(validate(devices, {"items": [{"id": "x", "offering": "smartphon"}]}))
    assert violation["message"] == "unknown offering 'smartphon' (did you mean 'smartphone'?)"


def test_a_device_sold_in_the_shop_and_on_the_web_is_refused_through_another_channel(devices, validate):
    [violation] = dicts(validate(devices, {"channel": "partner", "items": [SMALL_PLAN]}))
    assert violation["code"] == "channelNotAllowed"
    assert violation["message"] == ("offering 'mobile-telephony-plan' is not sold through channel 'partner' "
                                    "(only shop, web)")


# --- pay-per-view: a movie needs an effective PPV service ------------------------------------


def test_a_movie_without_a_ppv_service_is_refused_by_the_catalog_and_by_the_rules(ppv, validate):
    result = validate(ppv, {"channel": "web", "items": [MOVIE]})
    assert rules_of(result) == [("missingPrerequisite", None), ("notEligible", "movies-need-ppv-service")]
    missing, ineligible = dicts(result)
    assert missing["requires"] == "ppv-service" and missing["path"] == "$.items[0].offering"
    assert ineligible["path"] == "$.items[0].offering"
    assert ineligible["ruleSet"] == "ppv-eligibility"
    assert ineligible["reason"] == "ppvServiceNotEffective"
    assert ineligible["label"] == "A movie can be ordered only with an effective pay-per-view service"
    assert ineligible["alternate"] == "ppv-service"
    assert ineligible["explanation"] == [{"rule": "movies-need-ppv-service", "fired": True, "when": {
        "condition": "inventory.activeOfferings contains ppv-service", "result": False, "actual": []}}]


@pytest.mark.parametrize("status", ["active", "suspended", "pendingTerminate"])
def test_a_movie_with_an_effective_ppv_service_in_the_inventory_is_accepted(ppv, validate, status):
    result = validate(ppv, {"channel": "set-top-box", "items": [MOVIE],
                            "inventory": [{"id": "s1", "offering": "ppv-service", "status": status}]})
    assert result.valid, result.to_dict()


def test_a_terminated_ppv_service_does_not_let_a_movie_be_ordered(ppv, validate):
    result = validate(ppv, {"items": [MOVIE], "inventory": [{"id": "s1", "offering": "ppv-service",
                                                             "status": "terminated"}]})
    assert [v.code for v in result.violations] == ["missingPrerequisite", "notEligible"]


def test_a_movie_needs_its_title(ppv, validate):
    result = validate(ppv, {"items": [{"id": "movie", "offering": "ppv-movie"}],
                            "inventory": [{"id": "s1", "offering": "ppv-service"}]})
    assert [(v.code, v.to_dict()["path"]) for v in result.violations] == [
        ("missingCharacteristic", "$.items[0].characteristics")]


# --- connected car: eligibility and split billing --------------------------------------------

DRIVER = {"asOf": "2026-09-01", "channel": "car-maker-portal", "party": {"type": "individual"},
          "inventory": [{"id": "car", "offering": "car-connectivity-b2b"}],
          "items": [{"id": "info", "offering": "infotainment-connectivity"}]}


def test_the_infotainment_package_is_paid_by_the_driver_who_needs_a_billing_account(connected_car, validate):
    result = validate(connected_car, {**DRIVER, "payers": {"car-maker": "BA-CAR"}})
    [violation] = dicts(result)
    assert violation["code"] == "noBillingAccount"
    assert violation["path"] == "$.payers"
    assert (violation["payer"], violation["price"], violation["item"]) == ("driver", "infotainment-monthly",
                                                                           "$.items[0]")
    assert (violation["rule"], violation["ruleSet"]) == ("infotainment-package-to-driver",
                                                         "connected-car-split-billing")


def test_a_driver_with_billing_accounts_for_both_payers_may_buy_infotainment(connected_car, validate):
    result = validate(connected_car, {**DRIVER, "payers": {"car-maker": "BA-CAR", "driver": "BA-DRV"}})
    assert result.valid, result.to_dict()


def test_infotainment_needs_the_cars_connectivity(connected_car, validate):
    result = validate(connected_car, {**DRIVER, "inventory": [], "payers": {"car-maker": "A", "driver": "B"}})
    [violation] = dicts(result)
    assert (violation["code"], violation["requires"]) == ("missingPrerequisite", "car-connectivity-b2b")


def test_infotainment_sold_in_the_csp_shop_to_a_company_breaks_two_eligibility_rules(connected_car, validate):
    result = validate(connected_car, {**DRIVER, "channel": "csp-shop", "party": {"type": "organization"},
                                      "payers": {"car-maker": "A", "driver": "B"}})
    ineligible = dicts(result, "notEligible")
    assert [(v["reason"], v["rule"]) for v in ineligible] == [
        ("wrongChannel", "infotainment-through-car-maker"), ("driversOnly", "infotainment-for-drivers")]
    assert {v["ruleSet"] for v in ineligible} == {"connected-car-eligibility"}
    assert [v["explanation"][0]["when"]["actual"] for v in ineligible] == ["csp-shop", "organization"]
    assert [v.code for v in result.violations] == ["channelNotAllowed", "notEligible", "notEligible"]


@pytest.mark.parametrize("caller, eligible", [({"type": "customer"}, False), ({"type": "partner"}, True),
                                              ({}, False)])
def test_the_building_blocks_of_the_converged_offer_are_for_partners(connected_car, validate, caller, eligible):
    result = validate(connected_car, {"channel": "car-maker-portal", "caller": caller,
                                      "payers": {"car-maker": "A"}, "items": [
        {"id": "m", "offering": "music-5gb", "items": [{"id": "d", "offering": "data-5gb"},
                                                       {"id": "a", "offering": "music-access"}]}]})
    ineligible = dicts(result, "notEligible")
    if eligible:
        assert result.valid, result.to_dict()
    else:
        assert [(v["path"], v["reason"]) for v in ineligible] == [("$.items[0].items[0].offering", "partnersOnly")]
        assert len(result.violations) == 1


def test_the_converged_offer_is_not_in_force_before_march_2026(connected_car, validate):
    result = validate(connected_car, {"asOf": "2026-02-15", "channel": "csp-shop", "caller": {"type": "partner"},
                                      "payers": {"car-maker": "A"}, "items": [{"id": "m", "offering": "music-5gb"}]})
    assert [(v.code, v.to_dict()["path"]) for v in result.violations] == [("notInForce", "$.items[0].offering")]


def test_split_billing_is_bought_with_the_connectivity_it_requires(connected_car, validate):
    b2b = {"channel": "csp-b2b-portal", "party": {"type": "organization"}, "payers": {"car-maker": "A"}}
    connectivity = {"id": "c", "offering": "car-connectivity-b2b", "characteristics": {"vin": "VF1234"}}
    split = {"id": "s", "offering": "split-billing-option"}
    assert validate(connected_car, {**b2b, "items": [connectivity, split]}).valid
    [violation] = dicts(validate(connected_car, {**b2b, "items": [split]}))
    assert (violation["code"], violation["path"]) == ("missingPrerequisite", "$.items[0].offering")


def test_a_split_billing_option_outside_its_range_of_payers_is_invalid(connected_car, validate):
    result = validate(connected_car, {"channel": "csp-b2b-portal", "party": {"type": "organization"},
                                      "payers": {"car-maker": "A"}, "inventory": [
        {"id": "c", "offering": "car-connectivity-b2b"}], "items": [
        {"id": "s", "offering": "split-billing-option", "characteristics": {"maxPayers": 6}}]})
    [violation] = dicts(result)
    assert violation["message"] == "'maxPayers': 6 is outside 2..5"
    assert violation["path"] == "$.items[0].characteristics.maxPayers"
