"""The configuration query: for a basket, which options, add-ons, bundle components and
characteristic values can still be chosen, why the others cannot, and that asking never
changes the basket."""
from __future__ import annotations

from typing import Any

import pytest

from bssrules.configurator.model import Basket
from bssrules.configurator.query import query_configuration
from bssrules.configurator.validate import validate_basket
from bssrules.rules.project import Project

SMALL_PLAN = {"id": "plan", "offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "SMALL"},
              "resources": ["sim-small"]}
LARGE_PLAN = {**SMALL_PLAN, "characteristics": {"simFormFactor": "LARGE"}, "resources": ["sim-large"]}
LINE = {"id": "line", "offering": "line-any", "characteristics": {"speed": 500}}


def query(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    basket = Basket.model_validate({"asOf": "2026-09-01", **data})
    return query_configuration(basket, project.catalog, project.rules)


def entry(answer: dict[str, Any], item_id: str) -> dict[str, Any]:
    [found] = [e for e in answer["items"] if e["item"] == item_id]
    return found


def by_offering(choices: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["offering"]: c for c in choices}


def values_of(item: dict[str, Any], name: str) -> dict[Any, dict[str, Any]]:
    [characteristic] = [c for c in item["characteristics"] if c["name"] == name]
    return {v["value"]: v for v in characteristic["values"]}


def reason_codes(choice: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["code"], r.get("rule")) for r in choice["reasons"]]


# --- options and add-ons ----------------------------------------------------------------------


def test_the_ipad_options_of_a_plan_with_a_small_sim_are_selectable(devices):
    options = by_offering(entry(query(devices, {"items": [SMALL_PLAN]}), "plan")["options"])
    assert set(options) == {"ipad-mini-std", "ipad-mini-deluxe", "extra-minutes"}
    for offering in ("ipad-mini-std", "ipad-mini-deluxe"):
        assert options[offering]["relationship"] == "option"
        assert options[offering]["selectable"] is True and options[offering]["reasons"] == []


def test_the_ipad_options_of_a_plan_with_a_large_sim_are_not_selectable_with_the_rule_that_refuses(devices):
    options = by_offering(entry(query(devices, {"items": [LARGE_PLAN]}), "plan")["options"])
    for offering in ("ipad-mini-std", "ipad-mini-deluxe"):
        assert options[offering]["selectable"] is False
        assert reason_codes(options[offering]) == [("incompatible", "ipad-needs-small-sim")]
        assert options[offering]["reasons"][0]["message"] == (
            "resourceSpecification terminal-ipad-mini requires resourceSpecification sim-small")


def test_an_option_already_in_the_basket_is_not_offered_again_and_its_excluded_partner_is_refused(devices):
    options = by_offering(entry(query(devices, {"items": [SMALL_PLAN, {"id": "i", "offering": "ipad-mini-std"}]}),
                                "plan")["options"])
    assert "ipad-mini-std" not in options
    deluxe = options["ipad-mini-deluxe"]
    assert deluxe["selectable"] is False
    assert reason_codes(deluxe) == [("excluded", None), ("incompatible", "one-ipad-memory-size")]


def test_an_add_on_is_listed_as_such_with_the_reasons_validation_gives(devices):
    extra = by_offering(entry(query(devices, {"items": [SMALL_PLAN]}), "plan")["options"])["extra-minutes"]
    assert extra["relationship"] == "addOn"
    assert extra["selectable"] is False
    # extra-minutes is a mobile-telephony product: added bare, it lacks its SIM form factor.
    assert [r["message"] for r in extra["reasons"] if r["code"] == "missingCharacteristic"] == [
        "'simFormFactor' of 'mobile-telephony' is required"]


def test_the_options_and_add_ons_of_the_home_line_are_selectable_or_not_with_reasons(home):
    options = by_offering(entry(query(home, {"items": [LINE]}), "line")["options"])
    assert options["router-white"]["relationship"] == "option"
    # The white router needs its ports: adding it bare adds that violation.
    assert reason_codes(options["router-white"]) == [("missingCharacteristic", None)]
    assert options["router-white"]["selectable"] is False
    assert options["tv-sports"]["relationship"] == "addOn"
    assert options["static-ip"] == {"offering": "static-ip", "relationship": "addOn", "selectable": True,
                                    "reasons": []}


def test_an_option_is_selectable_in_a_basket_that_is_already_invalid_when_it_adds_no_violation(devices):
    answer = query(devices, {"items": [SMALL_PLAN, {"id": "old", "offering": "classic-phone"}]})
    assert answer["valid"] is False
    options = by_offering(entry(answer, "plan")["options"])
    assert options["ipad-mini-std"]["selectable"] is True


def test_an_option_whose_relationship_has_ended_is_not_offered_as_selectable(home):
    options = by_offering(entry(query(home, {"items": [LINE]}), "line")["options"])
    assert options["static-ip"]["selectable"] is True  # the same kind of offering, in force
    extender = options.get("wifi-extender")
    assert extender is None or extender["selectable"] is False


# --- bundle components ------------------------------------------------------------------------


def test_bundle_components_below_their_max_are_offered_with_their_count(devices):
    answer = query(devices, {"items": [{"id": "b", "offering": "mobile-with-tablet", "items": [SMALL_PLAN]}]})
    components = by_offering(entry(answer, "b")["components"])
    assert "mobile-telephony-plan" not in components  # one plan already: its max
    for offering in ("ipad-mini-std", "ipad-mini-deluxe"):
        assert (components[offering]["count"], components[offering]["max"]) == (0, 1)
        assert components[offering]["selectable"] is True


def test_a_bundle_component_excluded_by_another_component_is_not_selectable(devices):
    answer = query(devices, {"items": [{"id": "b", "offering": "mobile-with-tablet", "items": [
        SMALL_PLAN, {"id": "i", "offering": "ipad-mini-std"}]}]})
    components = by_offering(entry(answer, "b")["components"])
    assert set(components) == {"ipad-mini-deluxe"}
    assert reason_codes(components["ipad-mini-deluxe"]) == [("excluded", None),
                                                            ("incompatible", "one-ipad-memory-size")]


def test_a_bundle_component_counts_quantities_against_its_max(home):
    router = {"id": "r", "offering": "router", "characteristics": {"ports": 4}}
    below = by_offering(entry(query(home, {"items": [{"id": "b", "offering": "home-bundle",
                                                      "items": [LINE, router]}]}), "b")["components"])
    assert (below["router"]["count"], below["router"]["max"]) == (1, 2)
    at_max = by_offering(entry(query(home, {"items": [{"id": "b", "offering": "home-bundle",
                                                       "items": [LINE, {**router, "quantity": 2}]}]}), "b")["components"])
    assert "router" not in at_max
    assert "line-any" not in at_max
    assert at_max["tv-sports"]["selectable"] is True  # not sellable alone, but fine inside the bundle


def test_an_offering_that_is_not_a_bundle_has_no_components(devices):
    assert entry(query(devices, {"items": [SMALL_PLAN]}), "plan")["components"] == []


def test_a_component_that_adds_a_violation_is_not_selectable_whatever_the_other_items(devices):
    plan_without_form_factor = {"id": "p", "offering": "mobile-telephony-plan", "resources": ["sim-small"]}
    answer = query(devices, {"items": [plan_without_form_factor, {"id": "b", "offering": "mobile-with-tablet"}]})
    plan = by_offering(entry(answer, "b")["components"])["mobile-telephony-plan"]
    # A bare plan component lacks its simFormFactor (at $.items[1].items[0].characteristics): a new violation.
    assert plan["selectable"] is False


# --- characteristic values --------------------------------------------------------------------


def test_values_outside_the_offerings_characteristic_use_are_not_offered(devices):
    item = entry(query(devices, {"items": [SMALL_PLAN, {"id": "i", "offering": "ipad-mini-std"}]}), "i")
    memory = values_of(item, "memorySize")
    assert memory["16GB"] == {"value": "16GB", "selectable": True, "reasons": []}
    assert memory["32GB"]["selectable"] is False
    assert [r["code"] for r in memory["32GB"]["reasons"]] == ["notOffered"]
    assert memory["32GB"]["reasons"][0]["message"] == "offering 'ipad-mini-std' allows only 16GB"
    colours = values_of(item, "colour")
    assert {v: c["selectable"] for v, c in colours.items()} == {"silver": True, "space-grey": True}


def test_every_value_of_a_characteristic_is_listed_with_its_type(devices):
    item = entry(query(devices, {"items": [SMALL_PLAN]}), "plan")
    described = {c["name"]: c for c in item["characteristics"]}
    assert described["simFormFactor"]["valueType"] == "string"
    assert list(values_of(item, "simFormFactor")) == ["LARGE", "SMALL"]
    assert list(values_of(item, "freeMinutes")) == [100, 500]
    assert all(v["selectable"] for v in values_of(item, "freeMinutes").values())


def test_a_characteristic_with_a_range_is_reported_as_its_range_without_values(connected_car):
    # maxPayers has a range and no list: the query reports the range, not values.
    answer = query(connected_car, {"channel": "csp-b2b-portal", "party": {"type": "organization"},
                                   "payers": {"car-maker": "A"},
                                   "inventory": [{"id": "c", "offering": "car-connectivity-b2b"}],
                                   "items": [{"id": "s", "offering": "split-billing-option"}]})
    [max_payers] = entry(answer, "s")["characteristics"]
    assert max_payers == {"name": "maxPayers", "valueType": "integer", "values": [], "range": {"min": 2, "max": 5}}


def test_a_characteristic_that_is_not_configurable_is_not_offered(home):
    item = entry(query(home, {"items": [{"id": "r", "offering": "router", "characteristics": {"ports": 2}}]}), "r")
    names = [c["name"] for c in item["characteristics"]]
    assert "serial" not in names
    assert names == ["ports", "firmware", "colour", "weight", "wifi6", "installDate"]
    assert next(c for c in item["characteristics"] if c["name"] == "ports")["range"] == {"min": 1, "max": 8}


def test_a_value_narrowed_away_by_the_offering_is_not_offered_and_the_rest_are(home):
    item = entry(query(home, {"items": [{"id": "d", "offering": "line-dual", "characteristics": {"speed": 100}}]}), "d")
    speed = values_of(item, "speed")
    assert {v: c["selectable"] for v, c in speed.items()} == {100: True, 500: True, 1000: False}
    assert speed[1000]["reasons"][0]["code"] == "notOffered"


def test_choosing_a_missing_mandatory_value_is_selectable_because_it_repairs_the_basket(home):
    answer = query(home, {"items": [{"id": "l", "offering": "line-any"}]})
    assert [v["code"] for v in answer["violations"]] == ["missingCharacteristic"]
    assert all(v["selectable"] for v in values_of(entry(answer, "l"), "speed").values())


# --- the answer as a whole --------------------------------------------------------------------


def test_the_query_reports_the_validation_of_the_basket_as_it_is(devices):
    data = {"asOf": "2026-09-01", "items": [LARGE_PLAN, {"id": "phone", "offering": "smartphone",
                                                         "resources": ["terminal-smartphone"]}]}
    basket = Basket.model_validate(data)
    answer = query_configuration(basket, devices.catalog, devices.rules)
    assert {k: answer[k] for k in ("valid", "violations")} == validate_basket(
        basket, devices.catalog, devices.rules, explain=False).to_dict()
    assert answer["valid"] is False and len(answer["violations"]) == 2


def test_an_unknown_item_is_flagged_and_given_no_choice(devices):
    answer = query(devices, {"items": [{"id": "x", "offering": "smartphon"}]})
    assert answer["items"] == [{"item": "x", "offering": "smartphon", "options": [], "components": [],
                                "characteristics": [], "unknown": True}]


def test_only_the_top_level_items_are_answered_for_in_order(devices):
    answer = query(devices, {"items": [{"id": "b", "offering": "mobile-with-tablet", "items": [SMALL_PLAN]},
                                       {"id": "i", "offering": "ipad-mini-std"}]})
    assert [e["item"] for e in answer["items"]] == ["b", "i"]


@pytest.mark.parametrize("project_name, data", [
    ("devices", {"items": [SMALL_PLAN, {"id": "b", "offering": "mobile-with-tablet", "items": [
        {**SMALL_PLAN, "id": "child"}]}, {"id": "i", "offering": "ipad-mini-std"}]}),
    ("devices", {"channel": "web", "items": [LARGE_PLAN, {"id": "b", "offering": "mobile-with-tablet"}],
                 "inventory": [{"id": "p", "offering": "smartphone", "resources": ["terminal-smartphone"]}]}),
    ("home", {"items": [{"id": "r", "offering": "router", "characteristics": {"ports": 3, "colour": ["red"]}},
                        {"id": "b", "offering": "home-bundle", "items": [LINE]}, LINE]}),
])
def test_a_query_never_changes_the_basket(request, project_name, data):
    project = request.getfixturevalue(project_name)
    basket = Basket.model_validate({"asOf": "2026-09-01", **data})
    before = basket.model_dump(mode="json", by_alias=True)
    items_before = [(path, id(item)) for path, item, _ in basket.all_items()]
    query_configuration(basket, project.catalog, project.rules)
    assert basket.model_dump(mode="json", by_alias=True) == before
    assert [(path, id(item)) for path, item, _ in basket.all_items()] == items_before
    assert validate_basket(basket, project.catalog, project.rules).to_dict() == validate_basket(
        Basket.model_validate(before), project.catalog, project.rules).to_dict()
